import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { CriError } from '../../../../../../src/containers/index.ts';
import { connectRuntime } from '../../../../../../src/edge/edged/runtime/index.ts';
import { CriRuntime } from '../../../../../../src/edge/edged/runtime/cri/runtime.ts';
import { DockerRuntime } from '../../../../../../src/edge/edged/runtime/docker/runtime.ts';
import { BUSYBOX_IMAGE, DOCKER_ENDPOINT, PAUSE_IMAGE, dockerAvailable } from '../../../../../helpers/docker.ts';
import { criSkip, startTestContainerd, type TestContainerd } from '../../../../../helpers/containerd.ts';
import { skipUnless } from '../../../../../helpers/skip.ts';

const run = promisify(execFile);
const dockerSkip = skipUnless(await dockerAvailable(), `a Docker engine answering at ${DOCKER_ENDPOINT}`);

describe('CriRuntime against a real containerd', { skip: await criSkip(), concurrency: false }, () => {
  let cd: TestContainerd;
  let rt: CriRuntime;
  before(async () => {
    cd = await startTestContainerd();
    rt = await CriRuntime.connect(cd.endpoint, { logRoot: cd.logRoot });
  });
  after(async () => {
    rt?.close();
    await cd?.stop();
  });

  test('connectRuntime finds CRI on a containerd socket and names it containerd://<version>', async () => {
    const picked = await connectRuntime(cd.endpoint);
    assert.ok(picked instanceof CriRuntime);
    const v = await picked.version();
    (picked as CriRuntime).close();
    assert.equal(v.runtimeName, 'containerd');
    assert.equal(v.runtimeApiVersion, 'v1');
    const { stdout } = await run('containerd', ['--version']);
    assert.ok(stdout.includes(v.runtimeVersion), `${stdout} vs ${v.runtimeVersion}`);
  });

  test('connectRuntime still finds Docker on the Docker socket', { skip: dockerSkip }, async () => {
    assert.ok((await connectRuntime(DOCKER_ENDPOINT)) instanceof DockerRuntime);
  });

  test("images: present, absent, and a failed pull carries containerd's message", async () => {
    assert.match((await rt.imageId(BUSYBOX_IMAGE)) ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(await rt.imageId('local/not-here-kubeedge-ts:1'), undefined);
    await assert.rejects(rt.pullImage('local/not-here-kubeedge-ts:1'), (err: unknown) => {
      assert.ok(err instanceof CriError);
      assert.match(err.message, /failed to (pull and unpack image|resolve reference) "docker\.io\/local\/not-here-kubeedge-ts:1"/);
      return true;
    });
  });

  test('sandbox + container lifecycle: ids, pod IP, exec, stop with exit code, list by label, remove', async () => {
    const labels = {
      'io.kubernetes.pod.name': 'life',
      'io.kubernetes.pod.namespace': `ns-${process.pid}`,
      'io.kubernetes.pod.uid': `uid-${process.pid}`,
      'io.kubeedge-ts.node': 'n-cri',
    };
    const sid = await rt.runSandbox({
      name: 'k8s_POD_life',
      image: PAUSE_IMAGE,
      labels: { ...labels, 'io.kubernetes.container.name': 'POD' },
      hostname: 'life',
      hostNetwork: false,
      portMappings: [],
    });
    const sb = await rt.inspect(sid);
    assert.equal(sb?.state, 'running');
    assert.match(sb?.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    const cid = await rt.createContainer({
      name: 'k8s_c_life',
      image: BUSYBOX_IMAGE,
      labels: { ...labels, 'io.kubernetes.container.name': 'c' },
      sandboxId: sid,
      hostNetwork: false,
      command: ['sleep', '1000'],
      env: [{ name: 'GREETING', value: 'hi' }],
      mounts: [],
    });
    assert.equal((await rt.inspect(cid))?.state, 'created');
    await rt.startContainer(cid);
    const info = await rt.inspect(cid);
    assert.equal(info?.state, 'running');
    assert.equal(info?.name, 'k8s_c_life');
    assert.match(info?.imageRef ?? '', /^sha256:/);
    const r = await rt.exec(cid, ['sh', '-c', 'echo $GREETING; hostname; echo oops >&2; exit 4'], 5000);
    assert.deepEqual(r, { exitCode: 4, stdout: 'hi\nlife\n', stderr: 'oops\n' });
    assert.deepEqual((await rt.list({ 'io.kubeedge-ts.node': 'n-cri' })).map((i) => i.id).sort(), [sid, cid].sort());
    await rt.stopContainer(cid, 1);
    const stopped = await rt.inspect(cid);
    assert.equal(stopped?.state, 'exited');
    assert.equal(stopped?.exitCode, 137, 'sleep as PID 1 ignores SIGTERM, so the grace period ends in SIGKILL');
    assert.ok(stopped?.finishedAt);
    await rt.removeContainer(cid);
    await rt.removeContainer(cid);
    assert.equal(await rt.inspect(cid), undefined);
    await rt.removeContainer(sid);
    assert.equal(await rt.inspect(sid), undefined);
    assert.deepEqual(await rt.list({ 'io.kubeedge-ts.node': 'n-cri' }), []);
  });

  test("hostNetwork pods share the node's network namespace and get no pod IP of their own", async () => {
    const labels = {
      'io.kubernetes.pod.name': 'hostnet',
      'io.kubernetes.pod.namespace': `ns-${process.pid}`,
      'io.kubernetes.pod.uid': `hn-${process.pid}`,
      'io.kubeedge-ts.node': 'n-cri-hn',
    };
    const sid = await rt.runSandbox({
      name: 'k8s_POD_hostnet',
      image: PAUSE_IMAGE,
      labels: { ...labels, 'io.kubernetes.container.name': 'POD' },
      hostNetwork: true,
      portMappings: [],
    });
    try {
      assert.equal((await rt.inspect(sid))?.ip, undefined);
      const cid = await rt.createContainer({
        name: 'k8s_c_hostnet',
        image: BUSYBOX_IMAGE,
        labels: { ...labels, 'io.kubernetes.container.name': 'c' },
        sandboxId: sid,
        hostNetwork: true,
        command: ['sleep', '1000'],
        env: [],
        mounts: [],
      });
      await rt.startContainer(cid);
      const r = await rt.exec(cid, ['readlink', '/proc/self/ns/net'], 5000);
      assert.equal(r.stdout.trim(), readlinkSync('/proc/self/ns/net'));
    } finally {
      await rt.removeContainer(sid);
    }
    assert.deepEqual(await rt.list({ 'io.kubeedge-ts.node': 'n-cri-hn' }), []);
  });
});
