// Node identity and node authorization end to end: a real API server, cloudcore's module set (CloudHub with the
// identity policy cloudcore builds, EdgeController with the node authorizer enforcing) and the certificate
// service, with edges enrolled through /edge.crt by a join token and played by WebSocket clients.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { X509Certificate } from 'node:crypto';
import WebSocket from 'ws';
import { startCertServer, type CertServer } from '../../../../src/cloud/cloudhub/certs/cert-server.ts';
import { EdgeIdentityPolicy } from '../../../../src/pki/edge-identity.ts';
import { ensureEdgeCertificates, type EdgeCerts } from '../../../../src/edge/edgehub/certificate/bootstrap.ts';
import { EdgeCertError, TOKEN_REFUSED } from '../../../../src/edge/edgehub/certificate/errors.ts';
import { cloudGet } from '../../../../src/edge/edgehub/certificate/http.ts';
import { dialCloud } from '../../../../src/edge/edgehub/ws-client.ts';
import { nodeNameFromCert } from '../../../../src/pki/node-identity.ts';
import { isNotFound, paths, type KubeObject, type KubeRest } from '../../../../src/kube/rest.ts';
import { createJoinToken } from '../../../../src/pki/token.ts';
import { certDerToPem, createCA, createCsr, issueKeyPair, keyDerToPem, type KeyPairDer } from '../../../../src/pki/x509.ts';
import type { TestServer } from '../../../helpers/apiserver.ts';
import { quietLog, startCloud, waitFor, type LinkPki } from '../../../helpers/cloudhub.ts';
import { createNode, FakeEdge, newApi, podManifest, startStack, type CloudStack } from '../../../helpers/downstream.ts';

type Pem = { certPem: string; keyPem: string };
const pem = (kp: KeyPairDer): Pem => ({ certPem: certDerToPem(kp.certDer), keyPem: keyDerToPem(kp.keyDer) });

/** One CA for the WebSocket link and the certificate service, as cloudcore has. */
async function pkiWithCa(): Promise<{ pki: LinkPki; ca: KeyPairDer; server: KeyPairDer }> {
  const ca = await createCA();
  const other = await createCA('Someone Else');
  const server = await issueKeyPair(ca, { subject: 'CN=cloudcore', hosts: ['127.0.0.1'], usages: ['serverAuth'], days: 1 });
  const shared = await issueKeyPair(ca, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 1 });
  const serverOnly = await issueKeyPair(ca, { subject: 'CN=not-a-client', usages: ['serverAuth'], days: 1 });
  const foreign = await issueKeyPair(other, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 1 });
  const pki: LinkPki = {
    caPem: certDerToPem(ca.certDer),
    server: pem(server),
    client: pem(shared),
    serverOnlyClient: pem(serverOnly),
    foreignClient: pem(foreign),
  };
  return { pki, ca, server };
}

type Dial = { status: number; body: string; ws?: WebSocket };

/** Dials CloudHub as `nodeId` with `cert`; resolves with 101 and the open socket, or the refusal's status and text. */
function dial(port: number, caPem: string, nodeId: string, cert: Pem): Promise<Dial> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/p1/${nodeId}/events`, {
      headers: { node_id: nodeId, project_id: 'p1' },
      ca: caPem,
      cert: cert.certPem,
      key: cert.keyPem,
    });
    ws.once('open', () => resolve({ status: 101, body: '', ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}

async function closeWs(ws: WebSocket | undefined): Promise<void> {
  if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((r) => {
    ws.once('close', () => r());
    ws.close();
  });
}

type ErrStatus = { ErrStatus: { code: number; reason: string; message: string } };

describe('node identity and node authorization (enforcing)', () => {
  let setup: Awaited<ReturnType<typeof pkiWithCa>>;
  let api: TestServer;
  let kube: KubeRest;
  let stack: CloudStack;
  let certSrv: CertServer;
  let dir: string;
  let token: string;
  let httpServer: string;
  let certA: EdgeCerts;
  let edgeA: FakeEdge;
  const nodeExists = async (name: string): Promise<boolean> => {
    try {
      await kube.get(paths.node(name));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  };

  const enrol = (nodeName: string, t = token): Promise<EdgeCerts> =>
    ensureEdgeCertificates({
      httpServer,
      token: t,
      nodeName,
      caFile: join(dir, nodeName, 'ca.crt'),
      certFile: join(dir, nodeName, 'edge.crt'),
      keyFile: join(dir, nodeName, 'edge.key'),
      log: quietLog('edge-cert'),
    });

  before(async () => {
    setup = await pkiWithCa();
    dir = await mkdtemp(join(tmpdir(), 'node-trust-'));
    ({ api, kube } = await newApi());
    // As cloudcore builds it with authorization {enable: true, debug: false}; a zero enrolment window makes any
    // certificate of a node without a Node object void, so the revocation test needs no waiting.
    const identity = { allowSharedCerts: false, nodeExists, enrolmentGraceMs: 0 };
    stack = await startStack(api, setup.pki, { hub: { identity }, authorization: 'enforce' });
    certSrv = await startCertServer({
      address: '127.0.0.1',
      port: 0,
      ca: setup.ca,
      server: setup.server,
      edgeCertSigningDuration: 365,
      nodeExists,
      identity: new EdgeIdentityPolicy({ ...identity, log: quietLog('cert-identity') }),
      log: quietLog('cert-server'),
    });
    httpServer = `https://127.0.0.1:${certSrv.port}`;
    token = await createJoinToken(setup.ca, 12);
    await createNode(kube, 'trust-a', true);
    await createNode(kube, 'trust-b', true);
    certA = await enrol('trust-a');
    edgeA = await FakeEdge.connect(stack.port, setup.pki, 'trust-a', { cert: certA });
  });

  after(async () => {
    await edgeA?.close();
    await stack?.stop();
    await certSrv?.close();
    kube?.close();
    await api?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('an edge enrolled for node A gets a certificate naming A, and dialing as node B is refused', async () => {
    assert.match(certA.certPem, /BEGIN CERTIFICATE/);
    const refused = await dial(stack.port, setup.pki.caPem, 'trust-b', certA);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /certificate is for node "trust-a", not "trust-b"/);
    assert.equal(stack.hub.stats().refusedUpgrades.identity, 1);
    assert.equal(stack.hub.identityStats()?.refused.cert_node_mismatch, 1);
    assert.equal(stack.hub.isConnected('trust-b'), false);
    assert.equal(stack.hub.isConnected('trust-a'), true);
  });

  test('a certificate request for another node than NodeName is refused, whoever asks; a shared-CN request gets a named certificate', async () => {
    const ask = (nodeName: string, csrDer: Buffer, auth: { token?: string; client?: Pem }) =>
      cloudGet({
        url: `${httpServer}/edge.crt`,
        caPem: setup.pki.caPem,
        body: csrDer,
        headers: { NodeName: nodeName, ...(auth.token === undefined ? {} : { Authorization: `Bearer ${auth.token.split('.').slice(1).join('.')}` }) },
        ...(auth.client === undefined ? {} : { clientCert: auth.client }),
      });
    const forB = await createCsr('O=system:nodes, CN=system:node:trust-b');
    // trust-a's certificate cannot get one for trust-b, neither under its own name nor under trust-b's.
    await assert.rejects(ask('trust-b', forB.csrDer, { client: certA }), /HTTP 401/);
    await assert.rejects(ask('trust-a', forB.csrDer, { client: certA }), /HTTP 401: .*does not match node "trust-a"/);
    // A token holder asking as trust-c for trust-b's name is refused too.
    await assert.rejects(ask('trust-c', forB.csrDer, { token }), /HTTP 401: .*does not match node "trust-c"/);
    // A KubeEdge 1.15 edge asks for CN=kubeedge.io: it gets a certificate naming the node it enrols as.
    const legacy = await createCsr('O=kubeEdge, CN=kubeedge.io');
    const der = await ask('trust-c', legacy.csrDer, { token });
    assert.equal(nodeNameFromCert(new X509Certificate(der)), 'trust-c');
  });

  test('a Secret no pod of the node references gets a 403 reply; one its pod references is served', async () => {
    await kube.create(paths.namespaced('default', 'secrets'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'not-yours' },
      stringData: { password: 'hunter2' },
    });
    await kube.create(paths.namespaced('default', 'secrets'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'yours' },
      stringData: { password: 'ok' },
    });
    const before = await kube.get(paths.namespaced('default', 'secrets', 'not-yours'));
    await kube.create(paths.namespaced('default', 'pods'), podManifest('uses-secret', 'trust-a', { secret: 'yours' }));

    const denied = await edgeA.request('query', 'default/secret/not-yours');
    const err = denied.content as ErrStatus;
    assert.equal(err.ErrStatus.code, 403);
    assert.equal(err.ErrStatus.reason, 'Forbidden');
    assert.match(err.ErrStatus.message, /User "system:node:trust-a" cannot get resource "secrets".*no relationship found between node 'trust-a'/);
    assert.doesNotMatch(JSON.stringify(denied.content), /hunter2|aHVudGVyMg/);
    const afterwards = await kube.get(paths.namespaced('default', 'secrets', 'not-yours'));
    assert.equal(afterwards.metadata?.resourceVersion, before.metadata?.resourceVersion);

    const allowed = await edgeA.request('query', 'default/secret/yours');
    assert.equal((allowed.content as KubeObject).kind, 'Secret');
    const configMap = await edgeA.request('query', 'default/configmap/not-yours-either');
    assert.equal((configMap.content as ErrStatus).ErrStatus.code, 403);
    assert.ok((stack.ec.authorizationStats()?.deniedByNode['trust-a'] ?? 0) >= 2);
  });

  test("a podpatch or delete of another node's pod gets a 403 reply and the pod is untouched", async () => {
    const pod = await kube.create(paths.namespaced('default', 'pods'), podManifest('on-b', 'trust-b'));
    const patch = JSON.stringify({ metadata: { uid: pod.metadata?.uid }, status: { phase: 'Failed', podIP: '10.0.0.66' } });
    const reply = await edgeA.request('patch', 'default/podpatch/on-b', patch);
    const c = reply.content as { Object: unknown; Err: ErrStatus };
    assert.equal(c.Object, null);
    assert.equal(c.Err.ErrStatus.code, 403);
    assert.match(c.Err.ErrStatus.message, /pod default\/on-b is bound to node 'trust-b', not 'trust-a'/);
    const del = await edgeA.request('delete', 'default/pod/on-b', { gracePeriodSeconds: 0 });
    assert.equal((del.content as ErrStatus).ErrStatus.code, 403);
    const still = await kube.get(paths.namespaced('default', 'pods', 'on-b'));
    assert.equal(still.metadata?.uid, pod.metadata?.uid);
    assert.equal((still['status'] as { podIP?: string } | undefined)?.podIP, undefined);
    const lease = await edgeA.request('update', 'kube-node-lease/lease/trust-b', { metadata: { name: 'trust-b' }, spec: {} });
    assert.equal((lease.content as { Err: ErrStatus }).Err.ErrStatus.code, 403);

    // Its own pod's status it may patch.
    const own = await kube.create(paths.namespaced('default', 'pods'), podManifest('on-a', 'trust-a'));
    const ok = await edgeA.request('patch', 'default/podpatch/on-a', JSON.stringify({ metadata: { uid: own.metadata?.uid }, status: { podIP: '10.0.0.7' } }));
    assert.equal((ok.content as { Err: unknown }).Err, null);
  });

  test("service account tokens only for service accounts the node's pods use, and only bound to its own pods", async () => {
    await kube.create(paths.namespaced('default', 'pods'), podManifest('sa-user', 'trust-a'));
    const foreignSa = await edgeA.request('query', 'default/serviceaccounttoken/builder', { spec: { audiences: ['x'] } });
    assert.equal((foreignSa.content as ErrStatus).ErrStatus.code, 403);
    const boundToOther = await edgeA.request('query', 'default/serviceaccounttoken/default', {
      spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'on-b' } },
    });
    assert.equal((boundToOther.content as ErrStatus).ErrStatus.code, 403);
    // Its pods run as "default": the request reaches the API server (whatever it answers, it is not a 403).
    const own = await edgeA.request('query', 'default/serviceaccounttoken/default', { spec: { audiences: ['x'] } });
    assert.notEqual((own.content as Partial<ErrStatus>).ErrStatus?.code, 403);
  });

  test("a real KubeEdge 1.15.4 edge's first minute passes the enforcing authorizer once it holds a named certificate", async () => {
    const fixture = join(import.meta.dirname, '../../../fixtures/kubeedge-v1.15.4-connect.jsonl');
    const frames = (await readFile(fixture, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { dir: string; data: string })
      .filter((f) => f.dir === 'edge->cloud');
    await createNode(kube, 'wire-edge-1', true);
    const certs = await enrol('wire-edge-1');
    const d = await dial(stack.port, setup.pki.caPem, 'wire-edge-1', certs);
    assert.equal(d.status, 101);
    const ws = d.ws as WebSocket;
    const deniedBefore = stack.ec.authorizationStats()?.denied ?? 0;
    const allowedBefore = stack.ec.authorizationStats()?.allowed ?? 0;
    const waiting = new Set<string>();
    const replies: string[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { header: { parent_msg_id?: string }; content: unknown };
      const parent = m.header.parent_msg_id ?? '';
      if (waiting.delete(parent)) replies.push(JSON.stringify(m.content));
    });
    for (const f of frames) {
      const m = JSON.parse(f.data) as { header: { msg_id: string }; route: { operation: string; resource: string } };
      if (m.route.operation === 'query' || m.route.operation === 'insert' || m.route.operation === 'update' || m.route.operation === 'patch')
        waiting.add(m.header.msg_id);
      ws.send(f.data);
    }
    await waitFor(() => waiting.size === 0, 'replies to every request of the recorded edge', 10_000);
    await closeWs(ws);
    assert.equal((stack.ec.authorizationStats()?.denied ?? 0) - deniedBefore, 0);
    assert.ok((stack.ec.authorizationStats()?.allowed ?? 0) - allowedBefore >= 20, 'every request went through the authorizer');
    assert.ok(
      replies.every((r) => !r.includes('"code":403')),
      'no reply is a 403',
    );
  });

  test('a shared KubeEdge certificate is refused while authorization is enforced', async () => {
    const r = await dial(stack.port, setup.pki.caPem, 'trust-b', setup.pki.client);
    assert.equal(r.status, 403);
    assert.match(r.body, /names no node/);
    assert.equal(stack.hub.identityStats()?.refused.shared_cert, 1);
  });

  test('an expired join token is refused by the certificate service', async () => {
    const old = await createJoinToken(setup.ca, 1, new Date(Date.now() - 3 * 3_600_000));
    await assert.rejects(enrol('trust-late', old), (err: unknown) => err instanceof EdgeCertError && err.code === TOKEN_REFUSED && /expired/.test(err.message));
  });

  test('a node deleted in the API cannot reconnect or renew with its old certificate', async () => {
    await kube.delete(paths.node('trust-a'));
    await waitFor(() => !stack.hub.isConnected('trust-a'), 'session of the deleted node closed', 10_000);
    const r = await dial(stack.port, setup.pki.caPem, 'trust-a', certA);
    assert.equal(r.status, 403);
    assert.match(r.body, /node "trust-a" does not exist/);
    assert.equal(stack.hub.identityStats()?.refused.node_deleted, 1);
    const before401 = certSrv.counts.get('/edge.crt 401') ?? 0;
    const { rotateIfDue } = await import('../../../../src/edge/edgehub/certificate/rotate.ts');
    await assert.rejects(
      rotateIfDue({
        httpServer,
        nodeName: 'trust-a',
        caFile: join(dir, 'trust-a', 'ca.crt'),
        certFile: join(dir, 'trust-a', 'edge.crt'),
        keyFile: join(dir, 'trust-a', 'edge.key'),
        now: new Date(Date.now() + 364 * 86_400_000),
        retry: { attempts: 1, baseDelayMs: 1 },
        log: quietLog('edge-cert'),
      }),
      /HTTP 401: .*node "trust-a" does not exist/,
    );
    assert.equal(certSrv.counts.get('/edge.crt 401') ?? 0, before401 + 1);
  });
});

describe('node authorizer in audit mode (authorization not enforced, the default)', () => {
  test('a request the node may not make is served, and counted and logged with the node name', async () => {
    const { pki } = await pkiWithCa();
    const { api, kube } = await newApi();
    const stack = await startStack(api, pki);
    let edge: FakeEdge | undefined;
    try {
      await createNode(kube, 'audit-a', true);
      await kube.create(paths.namespaced('default', 'configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere' }, data: { k: 'v' } });
      edge = await FakeEdge.connect(stack.port, pki, 'audit-a');
      const reply = await edge.request('query', 'default/configmap/elsewhere');
      assert.equal((reply.content as KubeObject).kind, 'ConfigMap');
      const s = stack.ec.authorizationStats();
      assert.equal(s?.audited, 1);
      assert.equal(s?.deniedByNode['audit-a'], 1);
      // Another node's Node stays refused in every mode.
      const other = await edge.request('patch', 'null/nodepatch/someone-else', '{}');
      assert.equal((other.content as { Err: ErrStatus }).Err.ErrStatus.code, 403);
    } finally {
      await edge?.close();
      await stack.stop();
      kube.close();
      await api.cleanup();
    }
  });
});

describe('shared certificates under the switch', () => {
  test('with shared certificates allowed (the default) a KubeEdge 1.15 certificate joins, warned once per node', async () => {
    const { pki } = await pkiWithCa();
    const cloud = await startCloud(pki, { identity: { allowSharedCerts: true } });
    try {
      const first = await dial(cloud.port, pki.caPem, 'legacy-1', pki.client);
      assert.equal(first.status, 101);
      await closeWs(first.ws);
      const again = await dial(cloud.port, pki.caPem, 'legacy-1', pki.client);
      assert.equal(again.status, 101);
      await closeWs(again.ws);
      const s = cloud.hub.identityStats();
      assert.deepEqual(s?.sharedCertNodes, ['legacy-1']);
      assert.equal(s?.shared, 2);
    } finally {
      await cloud.stop();
    }
  });

  test('our edge on a shared certificate gets a certificate naming its node at its next rotation', async () => {
    const { pki, ca, server } = await pkiWithCa();
    const d = await mkdtemp(join(tmpdir(), 'shared-rotate-'));
    const srv = await startCertServer({
      address: '127.0.0.1',
      port: 0,
      ca,
      server,
      edgeCertSigningDuration: 365,
      identity: new EdgeIdentityPolicy({ allowSharedCerts: true, log: quietLog('cert-identity') }),
      log: quietLog('cert-server'),
    });
    try {
      const files = { caFile: join(d, 'ca.crt'), certFile: join(d, 'edge.crt'), keyFile: join(d, 'edge.key') };
      await writeFile(files.caFile, pki.caPem);
      await writeFile(files.certFile, pki.client.certPem);
      await writeFile(files.keyFile, pki.client.keyPem);
      const { rotateIfDue } = await import('../../../../src/edge/edgehub/certificate/rotate.ts');
      const r = await rotateIfDue({
        httpServer: `https://127.0.0.1:${srv.port}`,
        nodeName: 'legacy-7',
        ...files,
        now: new Date(Date.now() + 20 * 3_600_000),
        jitter: 0,
        log: quietLog('edge-cert'),
      });
      assert.equal(r.rotated, true);
      assert.equal(nodeNameFromCert(new X509Certificate(r.certs?.certPem ?? '')), 'legacy-7');
    } finally {
      await srv.close();
      await rm(d, { recursive: true, force: true });
    }
  });

  test('with shared certificates not allowed the same certificate is refused with the reason', async () => {
    const { pki } = await pkiWithCa();
    const cloud = await startCloud(pki, { identity: { allowSharedCerts: false } });
    try {
      const r = await dial(cloud.port, pki.caPem, 'legacy-1', pki.client);
      assert.equal(r.status, 403);
      assert.match(r.body, /CN=kubeedge\.io names no node/);
      assert.equal(cloud.hub.isConnected('legacy-1'), false);
      // Our edgehub reports the cloud's reason, not a bare status.
      await assert.rejects(
        dialCloud(
          {
            server: `127.0.0.1:${cloud.port}`,
            projectId: 'p1',
            nodeName: 'legacy-1',
            caPem: pki.caPem,
            ...pki.client,
            handshakeTimeoutMs: 5000,
            log: quietLog('edgehub'),
          },
          { onMessage: () => {}, onRejectedFrame: () => {}, onClose: () => {} },
        ),
        /cloud refused the connection: HTTP 403: certificate CN=kubeedge\.io names no node/,
      );
    } finally {
      await cloud.stop();
    }
  });
});
