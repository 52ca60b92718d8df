// CloudHub's certificate service (10002) on loopback TLS: /edge.crt with real, mutated and garbage CSRs, good,
// damaged and missing join tokens, odd NodeName and ExtKeyUsages headers, with and without a client certificate;
// /ca.crt and /node/{name}. A 5xx, a lost answer or a certificate signed for a request that should be refused
// (no valid token or cert) is a finding.
import fc from 'fast-check';
import { startCertServer, type CertServer } from '../../src/cloud/cloudhub/certs/cert-server.ts';
import { logger } from '../../src/core/log.ts';
import { createJoinToken } from '../../src/pki/token.ts';
import { certDerToPem, createCA, createCsr, issueKeyPair, keyDerToPem, type KeyPairDer } from '../../src/pki/x509.ts';
import { FuzzFailure, type FuzzTarget } from '../lib/harness.ts';
import { rawHttps } from '../lib/http.ts';

type Ctx = { server: CertServer; ca: KeyPairDer; caPem: string; token: string; csrs: Buffer[]; legacy: { cert: string; key: string } };

export type CertInput = {
  method: string;
  path: string;
  auth: { kind: 'token' } | { kind: 'damaged'; at: number; ch: string } | { kind: 'raw'; value: string } | { kind: 'none' };
  nodeName: string | undefined;
  usages: string | undefined;
  body:
    | { kind: 'csr'; which: number }
    | { kind: 'mutated'; which: number; flips: [number, number][]; cut: number }
    | { kind: 'bytes'; bytes: Uint8Array }
    | { kind: 'none' };
  clientCert: boolean;
};

const printable = fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));

export const certs: FuzzTarget<CertInput, Ctx> = {
  name: 'certs',
  describe: 'certificate service (10002): CSRs, join tokens, NodeName/ExtKeyUsages headers, client certificates',
  async setup() {
    const ca = await createCA();
    const server = await issueKeyPair(ca, { subject: 'CN=cloudcore', hosts: ['127.0.0.1', 'localhost'], usages: ['serverAuth'], days: 1 });
    const legacyKp = await issueKeyPair(ca, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 1 });
    const log = logger('fuzz-certs');
    log.level = process.env['FUZZ_LOG'] ?? 'silent';
    const srv = await startCertServer({ address: '127.0.0.1', port: 0, ca, server, edgeCertSigningDuration: 1, nodeExists: async (n) => n === 'fz-node', log });
    const csrs = await Promise.all(
      ['O=system:nodes, CN=system:node:fz-node', 'O=kubeEdge, CN=kubeedge.io', 'CN=other', 'O=system:masters, CN=admin'].map(
        async (s) => (await createCsr(s)).csrDer,
      ),
    );
    return {
      server: srv,
      ca,
      caPem: certDerToPem(ca.certDer),
      token: await createJoinToken(ca, 1),
      csrs,
      legacy: { cert: certDerToPem(legacyKp.certDer), key: keyDerToPem(legacyKp.keyDer) },
    };
  },
  arbitrary() {
    return fc.record({
      method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT'),
      path: fc.oneof(
        { weight: 6, arbitrary: fc.constant('/edge.crt') },
        { weight: 1, arbitrary: fc.constantFrom('/ca.crt', '/node/fz-node', '/node/', '/node/%', '/node/%E0%A4%A', '/node/x?y', '/', '/edge.crt?x=1') },
        { weight: 1, arbitrary: printable.map((s) => `/${encodeURI(s)}`) },
      ),
      auth: fc.oneof(
        { weight: 4, arbitrary: fc.constant({ kind: 'token' as const }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('damaged' as const), at: fc.nat(), ch: fc.constantFrom('.', 'A', '=', ' ', '') }) },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('raw' as const),
            value: fc.oneof(printable, fc.constantFrom('Bearer', 'Bearer a.b.c', 'Bearer a.b.c.d', 'Basic x', 'bearer  x')),
          }),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
      ),
      nodeName: fc.option(fc.oneof(fc.constantFrom('fz-node', 'other', '', 'system:node:x', 'a'.repeat(300)), printable), { nil: undefined }),
      usages: fc.option(fc.oneof(fc.constantFrom('[2]', '[1,2]', '[]', '[3]', '["x"]', '{}', 'null', '[2,2,2]', '[1e309]', '[-1]'), printable), {
        nil: undefined,
      }),
      body: fc.oneof(
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('csr' as const), which: fc.nat(3) }) },
        {
          weight: 3,
          arbitrary: fc.record({
            kind: fc.constant('mutated' as const),
            which: fc.nat(3),
            flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
            cut: fc.nat(),
          }),
        },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
        { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
      ),
      clientCert: fc.boolean(),
    });
  },
  async check(ctx, i) {
    const headers: Record<string, string> = {};
    // Whether the request carries proof that must get it signed (undefined: cannot tell, e.g. the last base64url
    // character of the signature, whose low bits carry nothing).
    let proof: boolean | undefined = i.auth.kind === 'token';
    if (i.auth.kind === 'token') headers['Authorization'] = `Bearer ${ctx.token}`;
    if (i.auth.kind === 'damaged') {
      const at = i.auth.at % (ctx.token.length + 1);
      const damaged = `${ctx.token.slice(0, at)}${i.auth.ch}${ctx.token.slice(at + 1)}`;
      headers['Authorization'] = `Bearer ${damaged}`;
      proof = damaged === ctx.token ? true : at >= ctx.token.length - 1 ? undefined : false;
    }
    if (i.auth.kind === 'raw') headers['Authorization'] = i.auth.value;
    if (i.nodeName !== undefined) headers['NodeName'] = i.nodeName;
    if (i.usages !== undefined) headers['ExtKeyUsages'] = i.usages;
    let body: Buffer | undefined;
    if (i.body.kind === 'csr') body = ctx.csrs[i.body.which % ctx.csrs.length];
    if (i.body.kind === 'mutated') {
      const b = Buffer.from(ctx.csrs[i.body.which % ctx.csrs.length] ?? Buffer.alloc(0));
      for (const [pos, v] of i.body.flips) b[pos % b.length] = v;
      body = b.subarray(0, b.length - (i.body.cut % 8));
    }
    if (i.body.kind === 'bytes') body = Buffer.from(i.body.bytes);
    const conn = { host: '127.0.0.1', port: ctx.server.port, ca: ctx.caPem, ...(i.clientCert ? ctx.legacy : {}) };
    let r: { status: number; body: string };
    try {
      r = await rawHttps(conn, i.method, i.path, headers, body);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_INVALID_CHAR' || code === 'ERR_UNESCAPED_CHARACTERS' || code === 'ERR_INVALID_HTTP_TOKEN') return;
      throw new FuzzFailure('crash', `no answer: ${(err as Error).message}`);
    }
    if (r.status >= 500) throw new FuzzFailure('wrong-answer', `${i.method} ${i.path} -> ${r.status} ${r.body.slice(0, 300)}`);
    if (r.status === 200 && i.path.split('?')[0] === '/edge.crt' && proof === false && !i.clientCert) {
      throw new FuzzFailure('wrong-answer', 'a certificate was signed without a valid token or client certificate');
    }
    const alive = await rawHttps({ host: '127.0.0.1', port: ctx.server.port, ca: ctx.caPem }, 'GET', '/ca.crt', {}, undefined);
    if (alive.status !== 200) throw new FuzzFailure('crash', `certificate service stopped answering /ca.crt (${alive.status})`);
  },
  async teardown(ctx) {
    await ctx.server.close();
  },
};
