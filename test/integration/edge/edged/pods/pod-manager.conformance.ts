import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { waitFor } from '../../../../helpers/tools.ts';
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from '../../../../helpers/docker.ts';
import type { ContainerRuntime } from '../../../../../src/edge/edged/runtime/types.ts';
import { PodManager, type PodManagerOptions } from '../../../../../src/edge/edged/pods/pod-manager.ts';
import type { ConfigObject, Pod, PodSpec, PodStatus } from '../../../../../src/edge/edged/pods/types.ts';

/**
 * The PodManager scenarios, written once and run against every container runtime (Docker, CRI/containerd) through
 * a driver that gives the few engine-side views a user would take (the engine's list, kill, logs, settings).
 */
export type RuntimeDriver = {
  /** e.g. 'dockerd', 'containerd (CRI)'. */
  name: string;
  /** The container id scheme PodStatus is expected to carry (`docker` → `docker://<id>`). */
  idScheme: string;
  skip: string | false;
  start(): Promise<ContainerRuntime>;
  stop(): Promise<void>;
  /** Ids of the containers (pod sandboxes included) carrying every label, as the engine lists them. */
  ps(labels: Record<string, string>): Promise<string[]>;
  /** SIGKILL from outside, as an operator or the OOM killer would. */
  kill(id: string): Promise<void>;
  /** A container's stdout. */
  logs(id: string): Promise<string>;
  /** What the engine recorded for a container's security and resource settings. */
  settings(id: string): Promise<{ privileged: boolean; capAdd: string[]; capDrop: string[]; nanoCpus: number; memoryBytes: number }>;
  /** Force-removes every container carrying the labels (cleanup after failures). */
  removeAll(labels: Record<string, string>): Promise<void>;
};

const NS = `ke-test-${process.pid}`;
const NS_LABELS = { 'io.kubernetes.pod.namespace': NS };
const podSel = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({ ...NS_LABELS, 'io.kubernetes.pod.name': name, ...extra });
const bareId = (containerID: string | undefined): string => (containerID ?? '').replace(/^[a-z]+:\/\//, '');
const log = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function mkPod(name: string, spec: Partial<PodSpec> & Pick<PodSpec, 'containers'>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, uid: randomUUID() },
    spec: { terminationGracePeriodSeconds: 1, nodeName: 'edge-1', ...spec },
  };
}

async function httpGet(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return await res.text();
}

/** In-memory configMap/secret source standing in for metamanager's local store (a fake of the peer). */
class FakeStore {
  configMaps = new Map<string, ConfigObject>();
  secrets = new Map<string, ConfigObject>();
  getConfigMap = async (ns: string, name: string): Promise<ConfigObject | undefined> => this.configMaps.get(`${ns}/${name}`);
  getSecret = async (ns: string, name: string): Promise<ConfigObject | undefined> => this.secrets.get(`${ns}/${name}`);
}

class Harness {
  statuses = new Map<string, PodStatus[]>();
  terminated: Pod[] = [];
  readonly manager: PodManager;
  constructor(runtime: ContainerRuntime, root: string, store: FakeStore, extra: Partial<PodManagerOptions> = {}) {
    this.manager = new PodManager({
      runtime,
      nodeName: 'edge-1',
      nodeIP: '127.0.0.1',
      rootDirectory: root,
      podSandboxImage: PAUSE_IMAGE,
      getConfigMap: store.getConfigMap,
      getSecret: store.getSecret,
      log,
      backoffBaseMs: 1000,
      monitorIntervalMs: 500,
      onStatus: (pod, status) => {
        const list = this.statuses.get(pod.metadata.uid) ?? [];
        list.push(status);
        this.statuses.set(pod.metadata.uid, list);
      },
      onPodTerminated: (pod) => {
        this.terminated.push(pod);
      },
      ...extra,
    });
  }
  last(uid: string): PodStatus | undefined {
    return this.statuses.get(uid)?.at(-1);
  }
  /** The first status ever reported that matches: for states a pod passes through quickly (ErrImagePull). */
  waitReported(uid: string, pred: (s: PodStatus) => boolean, timeoutMs = 30_000): Promise<PodStatus> {
    return waitFor(async () => this.statuses.get(uid)?.find(pred), timeoutMs, 100) as Promise<PodStatus>;
  }
  waitStatus(uid: string, pred: (s: PodStatus) => boolean, timeoutMs = 30_000): Promise<PodStatus> {
    return waitFor(
      async () => {
        const s = this.last(uid);
        return s && pred(s) ? s : undefined;
      },
      timeoutMs,
      100,
    ) as Promise<PodStatus>;
  }
}

/**
 * What this host does with a privileged container on this engine: starts it, or refuses (e.g. "unable to apply
 * caps: operation not permitted" where the host withholds capabilities). `why` is the tail of the engine's
 * message, the part that names the cause rather than the container.
 */
async function privilegedOnThisHost(runtime: ContainerRuntime, driver: RuntimeDriver): Promise<{ allowed: true } | { allowed: false; why: string }> {
  const uid = randomUUID();
  const labels = { ...NS_LABELS, 'io.kubernetes.pod.name': 'priv-probe', 'io.kubernetes.pod.uid': uid };
  try {
    const sandboxId = await runtime.runSandbox({
      name: `k8s_POD_priv-probe_${uid}`,
      image: PAUSE_IMAGE,
      labels: { ...labels, 'io.kubernetes.container.name': 'POD' },
      hostNetwork: false,
      portMappings: [],
      privileged: true,
    });
    const id = await runtime.createContainer({
      name: `k8s_c_priv-probe_${uid}`,
      image: BUSYBOX_IMAGE,
      labels: { ...labels, 'io.kubernetes.container.name': 'c' },
      sandboxId,
      hostNetwork: false,
      command: ['sleep', '1000'],
      env: [],
      mounts: [],
      privileged: true,
    });
    try {
      await runtime.startContainer(id);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      return {
        allowed: false,
        why: text
          .split(': ')
          .slice(-2)
          .join(': ')
          .replace(/: unknown$/, ''),
      };
    }
    return { allowed: true };
  } finally {
    await driver.removeAll({ 'io.kubernetes.pod.uid': uid });
  }
}

export function podManagerConformance(driver: RuntimeDriver): void {
  describe(`PodManager against the real ${driver.name}`, { skip: driver.skip, concurrency: false }, () => {
    let runtime: ContainerRuntime;
    let root: string;
    const managers: PodManager[] = [];
    const store = new FakeStore();

    before(async () => {
      runtime = await driver.start();
      root = mkdtempSync(join(tmpdir(), 'ke-pods-'));
    });
    after(async () => {
      for (const m of managers) await m.stop();
      await driver.removeAll(NS_LABELS);
      await driver.stop();
      rmSync(root, { recursive: true, force: true });
    });
    const harness = (extra: Partial<PodManagerOptions> = {}): Harness => {
      const h = new Harness(runtime, root, store, extra);
      managers.push(h.manager);
      return h;
    };

    test('hostPort + configMap volume pod: serves the file, restarts after kill, survives an edgecore restart, deletes gracefully', async () => {
      store.configMaps.set(`${NS}/web`, { metadata: { name: 'web', namespace: NS }, data: { 'index.html': 'hello v1' } });
      const hostPort = await freePort();
      const pod = mkPod('web', {
        containers: [
          {
            name: 'httpd',
            image: BUSYBOX_IMAGE,
            command: ['httpd', '-f', '-p', '80', '-h', '/www'],
            ports: [{ containerPort: 80, hostPort }],
            volumeMounts: [{ name: 'site', mountPath: '/www', readOnly: true }],
            readinessProbe: { httpGet: { path: '/index.html', port: 80 }, periodSeconds: 1 },
          },
        ],
        volumes: [{ name: 'site', configMap: { name: 'web' } }],
      });
      const uid = pod.metadata.uid;
      const h1 = harness();
      await h1.manager.syncPods([pod]);
      const running = await h1.waitStatus(uid, (s) => s.phase === 'Running' && s.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
      assert.match(running.podIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
      assert.notEqual(running.podIP, '127.0.0.1');
      assert.equal(running.hostIP, '127.0.0.1');
      const cs = running.containerStatuses[0];
      assert.ok(cs);
      assert.match(cs.containerID ?? '', new RegExp(`^${driver.idScheme}://[0-9a-f]{64}$`));
      assert.equal(cs.restartCount, 0);
      assert.equal(cs.ready, true);
      assert.deepEqual(h1.manager.statusOf(uid), running);

      assert.equal(await waitFor(async () => (await httpGet(`http://127.0.0.1:${hostPort}/index.html`)) === 'hello v1', 10_000), true);
      const listed = await driver.ps(podSel('web'));
      assert.equal(listed.length, 2, 'sandbox + app container');
      const sandbox = await driver.ps(podSel('web', { 'io.kubernetes.container.name': 'POD' }));
      assert.equal(sandbox.length, 1);

      // A configMap update reaches the mounted file.
      const updated = { metadata: { name: 'web', namespace: NS }, data: { 'index.html': 'hello v2' } };
      store.configMaps.set(`${NS}/web`, updated);
      await h1.manager.updateConfigMap(updated);
      assert.equal(await waitFor(async () => (await httpGet(`http://127.0.0.1:${hostPort}/index.html`)) === 'hello v2', 10_000), true);

      // A kill from outside → restarted with restartCount 1 and a new container id.
      await driver.kill(bareId(cs.containerID));
      const restarted = await h1.waitStatus(uid, (s) => s.containerStatuses[0]?.restartCount === 1 && s.containerStatuses[0].state.running !== undefined);
      const second = restarted.containerStatuses[0];
      assert.ok(second);
      assert.notEqual(second.containerID, cs.containerID);
      assert.equal(second.lastState.terminated?.exitCode, 137);
      assert.equal(await waitFor(async () => (await httpGet(`http://127.0.0.1:${hostPort}/index.html`)) === 'hello v2', 10_000), true);

      // edgecore restart: the old manager stops (containers keep running), a new one adopts them.
      await h1.manager.stop();
      const before = (await driver.ps(podSel('web'))).sort();
      const h2 = harness();
      await h2.manager.syncPods([pod]);
      const adopted = await h2.waitStatus(uid, (s) => s.phase === 'Running' && s.containerStatuses[0]?.ready === true);
      assert.equal(adopted.containerStatuses[0]?.containerID, second.containerID);
      assert.equal(adopted.containerStatuses[0]?.restartCount, 1);
      assert.equal(adopted.podIP, restarted.podIP);
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual((await driver.ps(podSel('web'))).sort(), before, 'nothing new started');

      // Graceful delete: everything gone within the grace period + 10 s, then the callback.
      const t0 = Date.now();
      h2.manager.deletePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } });
      await waitFor(async () => h2.terminated.length === 1, 11_000, 100);
      assert.ok(Date.now() - t0 < 11_000);
      assert.deepEqual(await driver.ps(podSel('web')), []);
      assert.equal(existsSync(join(root, 'pods', uid)), false, 'pod volume dir removed');
      assert.equal(h2.manager.statusOf(uid), undefined);
    });

    test("a nonexistent image gives ErrImagePull then ImagePullBackOff with the engine's message, while another pod runs", async () => {
      const h = harness();
      const bad = mkPod('badimage', { containers: [{ name: 'c', image: 'local/nonexistent-kubeedge-ts:1' }] });
      const good = mkPod('good', { containers: [{ name: 'c', image: BUSYBOX_IMAGE, command: ['sleep', '1000'] }] });
      h.manager.addOrUpdatePod(bad);
      h.manager.addOrUpdatePod(good);
      // ErrImagePull lasts only until the back-off starts, so look through every status reported. The bound is
      // generous, not a speed target: a pull that reaches no registry fails when the engine's resolver gives up.
      const errPull = await h.waitReported(bad.metadata.uid, (s) => s.containerStatuses[0]?.state.waiting?.reason === 'ErrImagePull', 120_000);
      const engineMsg = errPull.containerStatuses[0]?.state.waiting?.message ?? '';
      assert.notEqual(engineMsg, '');
      assert.equal(errPull.phase, 'Pending');
      const backoff = await h.waitReported(bad.metadata.uid, (s) => s.containerStatuses[0]?.state.waiting?.reason === 'ImagePullBackOff', 120_000);
      assert.ok(backoff.containerStatuses[0]?.state.waiting?.message?.includes(engineMsg));
      const goodStatus = await h.waitStatus(good.metadata.uid, (s) => s.phase === 'Running');
      assert.equal(goodStatus.containerStatuses[0]?.ready, true);
      // It keeps retrying: ErrImagePull comes back after the back-off.
      await waitFor(
        async () => (h.statuses.get(bad.metadata.uid) ?? []).filter((s) => s.containerStatuses[0]?.state.waiting?.reason === 'ErrImagePull').length >= 2,
        120_000,
        100,
      );
      h.manager.deletePod(bad);
      h.manager.deletePod(good);
      await waitFor(async () => h.terminated.length === 2, 15_000, 100);
    });

    test('a failing liveness probe restarts the container', async () => {
      const h = harness();
      const pod = mkPod('liveness', {
        containers: [
          {
            name: 'c',
            image: BUSYBOX_IMAGE,
            command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 1000'],
            livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      });
      h.manager.addOrUpdatePod(pod);
      await h.waitStatus(pod.metadata.uid, (s) => s.phase === 'Running');
      const restarted = await h.waitStatus(pod.metadata.uid, (s) => (s.containerStatuses[0]?.restartCount ?? 0) >= 1, 30_000);
      assert.ok(restarted.containerStatuses[0]?.lastState.terminated, 'the killed instance is the last state');
      h.manager.deletePod(pod);
      await waitFor(async () => h.terminated.length === 1, 15_000, 100);
    });

    test('env from configMap, secret and fieldRef; runs to Succeeded under restartPolicy Never', async () => {
      store.configMaps.set(`${NS}/envcm`, { metadata: { name: 'envcm', namespace: NS }, data: { color: 'blue', size: 'L' } });
      store.secrets.set(`${NS}/envsec`, { metadata: { name: 'envsec', namespace: NS }, data: { password: Buffer.from('s3cret').toString('base64') } });
      const h = harness();
      const pod = mkPod('envpod', {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'c',
            image: BUSYBOX_IMAGE,
            workingDir: '/tmp',
            command: ['sh', '-c', 'echo "COLOR=$COLOR PASS=$PASS NAME=$POD_NAME NS=$POD_NS NODE=$NODE IP=$POD_IP CM_size=$CM_size X=$(X) PWD=$(pwd)"'],
            env: [
              { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'envcm', key: 'color' } } },
              { name: 'PASS', valueFrom: { secretKeyRef: { name: 'envsec', key: 'password' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'X', value: 'expanded-$(COLOR)' },
            ],
            envFrom: [{ prefix: 'CM_', configMapRef: { name: 'envcm' } }],
          },
        ],
      });
      h.manager.addOrUpdatePod(pod);
      const done = await h.waitStatus(pod.metadata.uid, (s) => s.phase === 'Succeeded' || s.phase === 'Failed');
      assert.equal(done.phase, 'Succeeded');
      const term = done.containerStatuses[0]?.state.terminated;
      assert.equal(term?.exitCode, 0);
      assert.equal(term?.reason, 'Completed');
      const logs = await driver.logs(bareId(done.containerStatuses[0]?.containerID));
      assert.equal(logs.trim(), `COLOR=blue PASS=s3cret NAME=envpod NS=${NS} NODE=edge-1 IP=${done.podIP} CM_size=L X=expanded-blue PWD=/tmp`);
      h.manager.deletePod(pod);
      await waitFor(async () => h.terminated.length === 1, 15_000, 100);
    });

    test('volumes: secret items with defaultMode, emptyDir shared by two containers, hostPath, subPath', async () => {
      store.secrets.set(`${NS}/vsec`, {
        metadata: { name: 'vsec', namespace: NS },
        data: { pw: Buffer.from('pw-1').toString('base64'), other: Buffer.from('x').toString('base64') },
      });
      const hostDir = join(root, 'host-data');
      const h = harness();
      const pod = mkPod('vols', {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'writer',
            image: BUSYBOX_IMAGE,
            command: ['sh', '-c', 'echo shared > /scratch/f; echo from-host > /host/h; echo sub > /scratch/f2'],
            volumeMounts: [
              { name: 'scratch', mountPath: '/scratch' },
              { name: 'host', mountPath: '/host' },
            ],
          },
          {
            name: 'reader',
            image: BUSYBOX_IMAGE,
            command: [
              'sh',
              '-c',
              'sleep 1; cat /sec/creds/password; echo; stat -c %a /sec/creds/password; ls /sec/creds; cat /scratch/f; ls /only-sub; echo ro > /sec/x || echo readonly',
            ],
            volumeMounts: [
              { name: 'sec', mountPath: '/sec', readOnly: true },
              { name: 'scratch', mountPath: '/scratch' },
              { name: 'scratch', mountPath: '/only-sub', subPath: 'subdir' },
            ],
          },
        ],
        volumes: [
          { name: 'sec', secret: { secretName: 'vsec', items: [{ key: 'pw', path: 'creds/password' }], defaultMode: 0o400 } },
          { name: 'scratch', emptyDir: {} },
          { name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
        ],
      });
      h.manager.addOrUpdatePod(pod);
      const done = await h.waitStatus(pod.metadata.uid, (s) => s.phase === 'Succeeded' || s.phase === 'Failed');
      assert.equal(done.phase, 'Succeeded', JSON.stringify(done.containerStatuses));
      const reader = done.containerStatuses.find((c) => c.name === 'reader');
      const logs = await driver.logs(bareId(reader?.containerID));
      assert.deepEqual(logs.trim().split('\n'), ['pw-1', '400', 'password', 'shared', 'readonly']);
      assert.equal(readFileSync(join(hostDir, 'h'), 'utf8'), 'from-host\n');
      h.manager.deletePod(pod);
      await waitFor(async () => h.terminated.length === 1, 15_000, 100);
      assert.equal(existsSync(join(hostDir, 'h')), true, 'hostPath content outlives the pod');
    });

    test('a crashing container goes into CrashLoopBackOff with growing restarts; statuses are only reported on change', async () => {
      const h = harness();
      const pod = mkPod('crasher', { containers: [{ name: 'c', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo bye; exit 3'] }] });
      h.manager.addOrUpdatePod(pod);
      const looping = await h.waitStatus(
        pod.metadata.uid,
        (s) => s.containerStatuses[0]?.state.waiting?.reason === 'CrashLoopBackOff' && s.containerStatuses[0].restartCount >= 2,
      );
      assert.equal(looping.phase, 'Running');
      assert.equal(looping.containerStatuses[0]?.lastState.terminated?.exitCode, 3);
      assert.equal(looping.containerStatuses[0]?.lastState.terminated?.reason, 'Error');
      assert.match(looping.containerStatuses[0]?.state.waiting?.message ?? '', /back-off \d+s restarting failed container=c pod=crasher/);
      assert.equal(looping.conditions.find((c) => c.type === 'Ready')?.status, 'False');
      const all = (h.statuses.get(pod.metadata.uid) ?? []).map((s) => JSON.stringify(s));
      for (let i = 1; i < all.length; i++) assert.notEqual(all[i], all[i - 1], 'a status is reported only when it changed');
      h.manager.deletePod(pod);
      await waitFor(async () => h.terminated.length === 1, 15_000, 100);
    });

    test('syncPods removes pods that are no longer desired; tcpSocket readiness on a hostNetwork-free pod', async () => {
      const h = harness();
      const keep = mkPod('keep', {
        containers: [
          { name: 'c', image: BUSYBOX_IMAGE, command: ['httpd', '-f', '-p', '8080'], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } },
        ],
      });
      const drop = mkPod('drop', { containers: [{ name: 'c', image: BUSYBOX_IMAGE, command: ['sleep', '1000'] }] });
      await h.manager.syncPods([keep, drop]);
      await h.waitStatus(keep.metadata.uid, (s) => s.containerStatuses[0]?.ready === true);
      await h.waitStatus(drop.metadata.uid, (s) => s.phase === 'Running');
      await h.manager.syncPods([keep]);
      await waitFor(async () => h.terminated.some((p) => p.metadata.uid === drop.metadata.uid), 15_000, 100);
      assert.deepEqual(await driver.ps(podSel('drop')), []);
      assert.equal((await driver.ps(podSel('keep'))).length, 2);
      h.manager.deletePod(keep);
      await waitFor(async () => h.terminated.length === 2, 15_000, 100);
    });

    test('privileged is passed to the engine, and the pod shows what this host does with it (runs, or the refusal)', async (t) => {
      // Whether a privileged container may start is the host's call (capabilities, seccomp, user namespaces):
      // ask the engine directly first, then assert that the pod reports exactly that.
      const host = await privilegedOnThisHost(runtime, driver);
      t.diagnostic(host.allowed ? 'this host starts privileged containers' : `this host refuses privileged containers: ${host.why}`);
      const h = harness();
      const pod = mkPod('priv', {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'c',
            image: BUSYBOX_IMAGE,
            command: ['sleep', '1000'],
            securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] } },
            resources: { limits: { cpu: '250m', memory: '32Mi' } },
          },
        ],
      });
      h.manager.addOrUpdatePod(pod);
      const final = await h.waitStatus(pod.metadata.uid, (s) => (host.allowed ? s.phase === 'Running' : s.phase === 'Failed'));
      const c = final.containerStatuses[0];
      assert.ok(c?.containerID);
      const settings = await driver.settings(bareId(c.containerID));
      assert.equal(settings.privileged, true);
      assert.deepEqual(settings.capAdd, ['NET_ADMIN']);
      assert.deepEqual(settings.capDrop, ['MKNOD']);
      assert.equal(settings.nanoCpus, 250_000_000);
      assert.equal(settings.memoryBytes, 32 * 1024 * 1024);
      if (host.allowed) {
        assert.ok(c.state.running, 'this host runs privileged containers, and so does the pod');
      } else {
        // This host refuses: the engine's own words reach the status, as they reached the direct attempt.
        assert.equal(c.state.terminated?.reason, 'StartError');
        const msg = c.state.terminated?.message ?? '';
        assert.notEqual(host.why, '');
        assert.ok(msg.includes(host.why), `status message ${JSON.stringify(msg)} carries the engine's ${JSON.stringify(host.why)}`);
      }
      h.manager.deletePod(pod);
      await waitFor(async () => h.terminated.length === 1, 15_000, 100);
    });
  });
}
