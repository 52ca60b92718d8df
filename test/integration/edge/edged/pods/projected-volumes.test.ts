import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { DockerRuntime } from '../../../../../src/edge/edged/runtime/docker/runtime.ts';
import { PodManager } from '../../../../../src/edge/edged/pods/pod-manager.ts';
import { writeProjectedVolumes, type IssuedToken, type TokenCache, type TokenRequestSpec } from '../../../../../src/edge/edged/pods/projected.ts';
import { PodSetupError } from '../../../../../src/edge/edged/pods/errors.ts';
import type { ConfigObject, Pod, PodStatus } from '../../../../../src/edge/edged/pods/types.ts';
import { writeAtomic } from '../../../../../src/edge/edged/pods/atomic-writer.ts';
import { BUSYBOX_IMAGE, DOCKER_ENDPOINT, dockerSkip, ensureTestImages, PAUSE_IMAGE } from '../../../../helpers/docker.ts';
import { waitFor } from '../../../../helpers/tools.ts';

const NS = `ke-proj-${process.pid}`;
const log = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });

describe('atomic writer: ..data symlink swap as kubelet writes volumes', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ke-atomic-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('files are symlinks into ..data; an update switches ..data to a new directory; unchanged content writes nothing', async () => {
    const v = join(dir, 'vol');
    const p1 = new Map([
      ['token', { content: Buffer.from('t1'), mode: 0o600 }],
      ['sub/name', { content: Buffer.from('web'), mode: 0o644 }],
    ]);
    assert.equal(await writeAtomic(v, p1), true);
    assert.ok(lstatSync(join(v, 'token')).isSymbolicLink());
    assert.equal(readlinkSync(join(v, 'token')), join('..data', 'token'));
    assert.equal(readFileSync(join(v, 'token'), 'utf8'), 't1');
    assert.equal(statSync(join(v, 'token')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(v, 'sub', 'name'), 'utf8'), 'web');
    const first = readlinkSync(join(v, '..data'));
    assert.equal(await writeAtomic(v, p1), false, 'same content: no write');
    assert.equal(await writeAtomic(v, new Map([['token', { content: Buffer.from('t2'), mode: 0o600 }]])), true);
    assert.notEqual(readlinkSync(join(v, '..data')), first);
    assert.equal(readFileSync(join(v, 'token'), 'utf8'), 't2');
    assert.throws(() => lstatSync(join(v, 'sub')), 'a name no longer in the payload is removed');
    assert.throws(() => lstatSync(join(v, first)), 'the old data directory is removed');
  });
});

describe('projected volumes written to disk (fake token source and config store standing in for metamanager)', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'ke-projfs-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const uid = randomUUID();
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'team', uid, labels: { b: '2', a: '1' } },
    spec: {
      nodeName: 'edge-1',
      serviceAccountName: 'builder',
      containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '250m' }, limits: { memory: '1Gi' } } }],
      volumes: [
        {
          name: 'sa',
          projected: {
            defaultMode: 0o640,
            sources: [
              { serviceAccountToken: { audience: 'vault', expirationSeconds: 1000, path: 'token' } },
              { configMap: { name: 'cfg', items: [{ key: 'k', path: 'conf/k.txt', mode: 0o600 }] } },
              { secret: { name: 'missing', optional: true } },
              { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
            ],
          },
        },
        {
          name: 'info',
          downwardAPI: {
            items: [
              { path: 'cpu_req_m', resourceFieldRef: { containerName: 'c', resource: 'requests.cpu', divisor: '1m' } },
              { path: 'mem_gi', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Gi' } },
              { path: 'ip', fieldRef: { fieldPath: 'status.podIP' } },
            ],
          },
        },
      ],
    },
  };
  const asked: Array<{ ns: string; sa: string; spec: TokenRequestSpec }> = [];
  let n = 0;
  let offline = false;
  const src = {
    nodeName: 'edge-1',
    getConfigMap: async (ns: string, name: string): Promise<ConfigObject | undefined> =>
      ns === 'team' && name === 'cfg' ? { metadata: { name: 'cfg', namespace: 'team' }, data: { k: 'v' } } : undefined,
    getSecret: async (): Promise<ConfigObject | undefined> => undefined,
    getServiceAccountToken: async (ns: string, sa: string, spec: TokenRequestSpec, now = Date.now()): Promise<IssuedToken | undefined> => {
      if (offline) return undefined;
      asked.push({ ns, sa, spec });
      n++;
      return { token: `tok-${n}`, expirationTimestamp: new Date(now + 1000_000).toISOString() };
    },
  };
  const cache: TokenCache = new Map();
  const sa = () => join(root, 'pods', uid, 'volumes', 'kubernetes.io~projected', 'sa');
  const info = () => join(root, 'pods', uid, 'volumes', 'kubernetes.io~downward-api', 'info');

  test('token (audience, expiry, bound to the pod, as the pod’s service account), configMap items with modes, optional secret, labels, resources, pod IP', async () => {
    const t0 = Date.now();
    await writeProjectedVolumes(root, pod, src, '10.1.2.3', cache, t0);
    assert.deepEqual(asked[0], {
      ns: 'team',
      sa: 'builder',
      spec: { audiences: ['vault'], expirationSeconds: 1000, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid } },
    });
    assert.equal(readFileSync(join(sa(), 'token'), 'utf8'), 'tok-1');
    assert.equal(statSync(join(sa(), 'token')).mode & 0o777, 0o640);
    assert.equal(readFileSync(join(sa(), 'conf', 'k.txt'), 'utf8'), 'v');
    assert.equal(statSync(join(sa(), 'conf', 'k.txt')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(sa(), 'labels'), 'utf8'), 'a="1"\nb="2"');
    assert.equal(readFileSync(join(info(), 'cpu_req_m'), 'utf8'), '250');
    assert.equal(readFileSync(join(info(), 'mem_gi'), 'utf8'), '1');
    assert.equal(readFileSync(join(info(), 'ip'), 'utf8'), '10.1.2.3');
  });

  test('the token is kept until 80 % of its lifetime, then renewed; offline, the old one stays', async () => {
    const fetched = [...cache.values()][0]?.fetchedAt ?? 0;
    await writeProjectedVolumes(root, pod, src, '10.1.2.3', cache, fetched + 700_000);
    assert.equal(readFileSync(join(sa(), 'token'), 'utf8'), 'tok-1', 'at 70 % the token is kept');
    await writeProjectedVolumes(root, pod, src, '10.1.2.3', cache, fetched + 810_000);
    assert.equal(readFileSync(join(sa(), 'token'), 'utf8'), 'tok-2', 'past 80 % a new one is written');
    offline = true;
    await writeProjectedVolumes(root, pod, src, '10.1.2.3', cache, fetched + 810_000 + 900_000);
    assert.equal(readFileSync(join(sa(), 'token'), 'utf8'), 'tok-2');
    offline = false;
  });

  test('a missing configMap that is not optional fails the mount (FailedMount)', async () => {
    const bad: Pod = {
      ...pod,
      metadata: { ...pod.metadata, uid: randomUUID() },
      spec: { ...pod.spec, volumes: [{ name: 'x', projected: { sources: [{ configMap: { name: 'nope' } }] } }] },
    };
    await assert.rejects(
      writeProjectedVolumes(root, bad, src, '', new Map()),
      (err: unknown) => err instanceof PodSetupError && /configmap "nope" not found/.test(err.message),
    );
  });
});

describe('edged projected and downwardAPI volumes on the real dockerd (fake token source and config store standing in for metamanager)', {
  skip: await dockerSkip(),
}, () => {
  let runtime: DockerRuntime;
  let root: string;
  let manager: PodManager;
  const statuses = new Map<string, PodStatus>();
  const asked: TokenRequestSpec[] = [];
  let issued = 0;
  const configMaps = new Map<string, ConfigObject>();

  before(async () => {
    await ensureTestImages();
    runtime = await DockerRuntime.connect(DOCKER_ENDPOINT);
    root = mkdtempSync(join(tmpdir(), 'ke-proj-'));
    configMaps.set(`${NS}/kube-root-ca.crt`, { metadata: { name: 'kube-root-ca.crt', namespace: NS }, data: { 'ca.crt': 'CA-PEM' } });
    manager = new PodManager({
      runtime,
      nodeName: 'edge-1',
      nodeIP: '127.0.0.1',
      rootDirectory: root,
      podSandboxImage: PAUSE_IMAGE,
      getConfigMap: async (ns, name) => configMaps.get(`${ns}/${name}`),
      getSecret: async () => undefined,
      // tokens that live 6 s: renewed after 80 % of that, about every 5 s
      getServiceAccountToken: async (_ns: string, sa: string, spec: TokenRequestSpec): Promise<IssuedToken> => {
        asked.push(spec);
        issued++;
        return { token: `token-${sa}-${issued}`, expirationTimestamp: new Date(Date.now() + 6000).toISOString() };
      },
      log,
      backoffBaseMs: 1000,
      monitorIntervalMs: 500,
      onStatus: (pod, s) => statuses.set(pod.metadata.uid, s),
    });
  });
  after(async () => {
    await manager?.stop();
    const list = await runtime.client.listContainers({ all: true, labels: [`io.kubernetes.pod.namespace=${NS}`] });
    await Promise.all(list.map((c) => runtime.client.removeContainer(c.Id, { force: true, volumes: true }).catch(() => undefined)));
    rmSync(root, { recursive: true, force: true });
  });

  test('the default service-account volume (token, ca.crt, namespace) and downwardAPI files have the right values; the token is renewed', async () => {
    const uid = randomUUID();
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'proj', namespace: NS, uid, labels: { app: 'web', tier: 'front' }, annotations: { note: 'a "quoted" value' }, resourceVersion: '1' },
      spec: {
        nodeName: 'edge-1',
        serviceAccountName: 'default',
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            image: BUSYBOX_IMAGE,
            command: ['sh', '-c', 'while true; do cat /var/run/secrets/kubernetes.io/serviceaccount/token; echo; sleep 1; done'],
            resources: { limits: { memory: '64Mi', cpu: '500m' } },
            volumeMounts: [
              { name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
              { name: 'info', mountPath: '/etc/podinfo' },
            ],
          },
        ],
        volumes: [
          {
            name: 'kube-api-access-abcde',
            projected: {
              defaultMode: 0o644,
              sources: [
                { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
                { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
                { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
              ],
            },
          },
          {
            name: 'info',
            downwardAPI: {
              items: [
                { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
                { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } },
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
                { path: 'node', fieldRef: { fieldPath: 'spec.nodeName' } },
                { path: 'sa', fieldRef: { fieldPath: 'spec.serviceAccountName' } },
                { path: 'mem_mi', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
                { path: 'cpu_m', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' } },
                { path: 'ip', fieldRef: { fieldPath: 'status.podIP' } },
              ],
            },
          },
        ],
      },
    };
    manager.addOrUpdatePod(pod);
    const running = await waitFor(async () => {
      const s = statuses.get(uid);
      return s?.phase === 'Running' ? s : undefined;
    }, 60_000);
    assert.ok(running);
    const sa = join(root, 'pods', uid, 'volumes', 'kubernetes.io~projected', 'kube-api-access-abcde');
    const info = join(root, 'pods', uid, 'volumes', 'kubernetes.io~downward-api', 'info');
    assert.match(readFileSync(join(sa, 'token'), 'utf8'), /^token-default-\d+$/);
    assert.equal(readFileSync(join(sa, 'ca.crt'), 'utf8'), 'CA-PEM');
    assert.equal(readFileSync(join(sa, 'namespace'), 'utf8'), NS);
    assert.deepEqual(asked[0], { audiences: null, expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'proj', uid } });
    const read = (f: string) => readFileSync(join(info, f), 'utf8');
    assert.equal(read('name'), 'proj');
    assert.equal(read('uid'), uid);
    assert.equal(read('labels'), 'app="web"\ntier="front"');
    assert.equal(read('annotations'), 'note="a \\"quoted\\" value"');
    assert.equal(read('node'), 'edge-1');
    assert.equal(read('sa'), 'default');
    assert.equal(read('mem_mi'), '64');
    assert.equal(read('cpu_m'), '500');
    assert.equal(read('ip'), running.podIP ?? '');
    // the container reads the mounted token; a renewed one appears inside without a restart
    const firstToken = readFileSync(join(sa, 'token'), 'utf8');
    await waitFor(async () => readFileSync(join(sa, 'token'), 'utf8') !== firstToken, 30_000, 200);
    const cid = (statuses.get(uid)?.containerStatuses[0]?.containerID ?? '').replace(/^docker:\/\//, '');
    await waitFor(
      async () => {
        const out = (await runtime.client.containerLogs(cid)).stdout;
        const seen = new Set(out.split('\n').filter((l) => l.startsWith('token-')));
        return seen.size >= 2;
      },
      30_000,
      500,
    );
    assert.equal(statuses.get(uid)?.containerStatuses[0]?.restartCount, 0);
  });
});
