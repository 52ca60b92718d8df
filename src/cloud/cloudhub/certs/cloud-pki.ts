import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { KubeEdgeError, describeError } from '../../../core/errors.ts';
import { logger, type Logger } from '../../../core/log.ts';
import { CertificateError, chainsTo, createCA, issueKeyPair, keyMatchesCert, keyPemToDer, pemToDer, type KeyPairDer } from '../../../pki/x509.ts';
import { OID_SERVER_AUTH, certFacts, missingSans } from '../../../pki/cert-info.ts';
import type { SecretStore } from './secret-store.ts';

/** KubeEdge's names (cloud/pkg/cloudhub/servers/httpserver/pre_server.go); other tools read these secrets. */
export const KUBEEDGE_NAMESPACE = 'kubeedge';
export const CA_SECRET = { name: 'casecret', cert: 'cadata', key: 'cakeydata' } as const;
export const SERVER_SECRET = { name: 'cloudcoresecret', cert: 'cloudcoredata', key: 'cloudcorekeydata' } as const;

const SERVER_SUBJECT = 'CN=KubeEdge, O=KubeEdge';
const HUNDRED_YEARS_DAYS = 100 * 365;

export class CloudPkiError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('KE_CLOUD_PKI', message, context, cause === undefined ? {} : { cause });
  }
}

export type CloudPkiOptions = {
  caFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
  advertiseAddress: string[];
  dnsNames: string[];
  log?: Logger;
};

export type CloudPki = { ca: KeyPairDer; server: KeyPairDer };

type Source = 'files' | 'secret' | 'generated';

async function readIfExists(path: string): Promise<string | undefined> {
  if (path === '') return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CloudPkiError(`cannot read ${path}`, { path }, err);
  }
}

/** Both PEM files present: a pair from disk. One missing: undefined (fall through, as KubeEdge does). */
async function pairFromFiles(certFile: string, keyFile: string): Promise<KeyPairDer | undefined> {
  const [certPem, keyPem] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    const pair = { certDer: pemToDer(certPem, 'CERTIFICATE'), keyDer: keyPemToDer(keyPem) };
    if (!keyMatchesCert(pair.keyDer, pair.certDer)) throw new CertificateError('private key does not belong to the certificate');
    return pair;
  } catch (err) {
    throw new CloudPkiError(`${certFile} / ${keyFile} are not a usable certificate and key`, { certFile, keyFile }, err);
  }
}

function pairFromSecret(data: Record<string, Buffer> | undefined, certKey: string, keyKey: string): KeyPairDer | undefined {
  const certDer = data?.[certKey];
  const keyDer = data?.[keyKey];
  if (certDer === undefined || keyDer === undefined || certDer.length === 0 || keyDer.length === 0) return undefined;
  return { certDer, keyDer };
}

function pairProblem(pair: KeyPairDer): string | undefined {
  try {
    new X509Certificate(pair.certDer);
    return keyMatchesCert(pair.keyDer, pair.certDer) ? undefined : 'key does not match certificate';
  } catch (err) {
    return `unreadable: ${describeError(err)}`;
  }
}

async function loadCa(store: SecretStore, o: CloudPkiOptions, log: Logger): Promise<{ pair: KeyPairDer; source: Source }> {
  const fromFiles = await pairFromFiles(o.caFile, o.caKeyFile);
  if (fromFiles !== undefined) return { pair: fromFiles, source: 'files' };
  const fromSecret = pairFromSecret(await store.get(KUBEEDGE_NAMESPACE, CA_SECRET.name), CA_SECRET.cert, CA_SECRET.key);
  if (fromSecret !== undefined) {
    const problem = pairProblem(fromSecret);
    // Never replace a broken CA silently: every enrolled edge trusts it. The operator must decide.
    if (problem !== undefined) {
      throw new CloudPkiError(`secret ${KUBEEDGE_NAMESPACE}/${CA_SECRET.name} holds an unusable CA (${problem}); fix or delete it`, {
        secret: `${KUBEEDGE_NAMESPACE}/${CA_SECRET.name}`,
      });
    }
    return { pair: fromSecret, source: 'secret' };
  }
  log.info('no CA in files or secret; generating a new KubeEdge CA');
  return { pair: await createCA(), source: 'generated' };
}

/** Why a stored server certificate cannot be reused, or undefined when it can. */
function serverCertProblem(server: KeyPairDer, ca: KeyPairDer, hosts: string[]): string | undefined {
  const basic = pairProblem(server);
  if (basic !== undefined) return basic;
  if (!chainsTo(server.certDer, ca.certDer)) return 'it is not signed by the current CA or is outside its validity period';
  const facts = certFacts(server.certDer);
  if (facts === undefined) return 'unreadable';
  if (facts.eku.length > 0 && !facts.eku.includes(OID_SERVER_AUTH)) return 'it lacks the serverAuth usage';
  const missing = missingSans(facts, hosts);
  if (missing.length > 0) return `its SANs do not cover ${missing.join(', ')}`;
  return undefined;
}

async function loadServer(store: SecretStore, ca: KeyPairDer, o: CloudPkiOptions, log: Logger): Promise<{ pair: KeyPairDer; source: Source }> {
  const hosts = [...o.advertiseAddress, ...o.dnsNames].filter((h) => h !== '');
  const fromFiles = await pairFromFiles(o.certFile, o.keyFile);
  if (fromFiles !== undefined) {
    // Operator-provided files win, as in KubeEdge; say loudly when they will not work for edges.
    const problem = serverCertProblem(fromFiles, ca, hosts);
    if (problem !== undefined) log.warn({ certFile: o.certFile, problem }, 'using the cloudcore certificate from files although edges may reject it');
    return { pair: fromFiles, source: 'files' };
  }
  const fromSecret = pairFromSecret(await store.get(KUBEEDGE_NAMESPACE, SERVER_SECRET.name), SERVER_SECRET.cert, SERVER_SECRET.key);
  if (fromSecret !== undefined) {
    const problem = serverCertProblem(fromSecret, ca, hosts);
    if (problem === undefined) return { pair: fromSecret, source: 'secret' };
    log.info({ secret: `${KUBEEDGE_NAMESPACE}/${SERVER_SECRET.name}`, reason: problem }, 'reissuing the cloudcore server certificate');
  } else {
    log.info({ hosts }, 'issuing a new cloudcore server certificate');
  }
  const pair = await issueKeyPair(ca, { subject: SERVER_SUBJECT, hosts, usages: ['serverAuth'], days: HUNDRED_YEARS_DAYS });
  return { pair, source: 'generated' };
}

/**
 * Loads or creates cloudcore's CA and server certificate in KubeEdge's order (files, then secret, then new)
 * and writes both back to their secrets, so keadm, other replicas and restarts see the same ones.
 */
export async function ensureCloudPki(store: SecretStore, o: CloudPkiOptions): Promise<CloudPki> {
  const log = o.log ?? logger('cloudhub-certs');
  await store.ensureNamespace(KUBEEDGE_NAMESPACE);
  const ca = await loadCa(store, o, log);
  await store.put(KUBEEDGE_NAMESPACE, CA_SECRET.name, { [CA_SECRET.cert]: ca.pair.certDer, [CA_SECRET.key]: ca.pair.keyDer });
  const server = await loadServer(store, ca.pair, o, log);
  await store.put(KUBEEDGE_NAMESPACE, SERVER_SECRET.name, {
    [SERVER_SECRET.cert]: server.pair.certDer,
    [SERVER_SECRET.key]: server.pair.keyDer,
  });
  log.info({ ca: ca.source, server: server.source }, 'cloud certificates ready');
  return { ca: ca.pair, server: server.pair };
}
