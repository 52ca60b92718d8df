import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { connectRuntime } from '../../../../../../src/edge/edged/runtime/index.ts';
import { DockerRuntime } from '../../../../../../src/edge/edged/runtime/docker/runtime.ts';
import { RuntimeUnavailableError } from '../../../../../../src/edge/edged/runtime/errors.ts';
import { BUSYBOX_IMAGE, DOCKER_ENDPOINT, PAUSE_IMAGE, dockerAvailable } from '../../../../../helpers/docker.ts';
import { CriError } from '../../../../../../src/edge/edged/runtime/cri/client.ts';
import { containerConfig, nanosToIso, podLogDirectory, sandboxConfig } from '../../../../../../src/edge/edged/runtime/cri/mapping.ts';
import { CriRuntime } from '../../../../../../src/edge/edged/runtime/cri/runtime.ts';
import { criSkip, startTestContainerd, type TestContainerd } from '../../../../../helpers/containerd.ts';

const run = promisify(execFile);
const here = import.meta.dirname;
const dockerUp = await dockerAvailable();

describe('CRI schema and mapping', () => {
  test('nanosecond timestamps become ISO strings; 0 is never', () => {
    assert.equal(nanosToIso('1700000000123456789'), '2023-11-14T22:13:20.123Z');
    assert.equal(nanosToIso('0'), undefined);
  });

  test('container config: Kubernetes command/args, user forms, cpu/memory limits, capabilities, log path', () => {
    const base = {
      name: 'k8s_c_p_ns_uid_2',
      image: 'busybox',
      sandboxId: 's',
      hostNetwork: false,
      env: [{ name: 'A', value: '1' }],
      mounts: [{ hostPath: '/h', containerPath: '/c', readOnly: true }],
    };
    const labels = { 'io.kubernetes.container.name': 'c', 'io.kubeedge-ts.restart-count': '2' };
    const c = containerConfig({ ...base, labels, command: ['sh'], user: '1000:2000', nanoCpus: 250_000_000, memoryBytes: 1 << 25, capAdd: ['NET_ADMIN'] });
    assert.deepEqual(c.metadata, { name: 'c', attempt: 2 });
    assert.deepEqual([c.command, c.args], [['sh'], []]);
    assert.equal(c.log_path, 'c/2.log');
    assert.deepEqual(c.envs, [{ key: 'A', value: '1' }]);
    assert.deepEqual(c.mounts, [{ container_path: '/c', host_path: '/h', readonly: true }]);
    assert.deepEqual(c.linux.resources, { cpu_period: '100000', cpu_quota: '25000', cpu_shares: '256', memory_limit_in_bytes: String(1 << 25) });
    assert.deepEqual(c.linux.security_context.run_as_user, { value: '1000' });
    assert.deepEqual(c.linux.security_context.run_as_group, { value: '2000' });
    assert.deepEqual(c.linux.security_context.capabilities, { add_capabilities: ['NET_ADMIN'], drop_capabilities: [] });
    assert.deepEqual(c.linux.security_context.namespace_options, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    const named = containerConfig({ ...base, labels, user: 'nobody', hostNetwork: true });
    assert.equal(named.linux.security_context.run_as_username, 'nobody');
    assert.equal(named.linux.security_context.namespace_options.network, 'NODE');
  });

  test('sandbox config: pod identity from the kubelet labels, kubelet log layout, ports only off the host network', () => {
    const labels = {
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'prod',
      'io.kubernetes.pod.uid': 'u-1',
      'io.kubeedge-ts.restart-count': '1',
    };
    const dir = podLogDirectory('/var/log/pods', labels, 'x');
    assert.equal(dir, '/var/log/pods/prod_web_u-1');
    const ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' as const }];
    const s = sandboxConfig({ name: 'k8s_POD_web', image: PAUSE_IMAGE, labels, hostname: 'web', hostNetwork: false, portMappings: ports }, dir);
    assert.deepEqual(s.metadata, { name: 'web', uid: 'u-1', namespace: 'prod', attempt: 1 });
    assert.deepEqual(s.port_mappings, [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '' }]);
    assert.equal(s.linux.security_context.namespace_options.network, 'POD');
    const h = sandboxConfig({ name: 'n', image: PAUSE_IMAGE, labels, hostname: 'web', hostNetwork: true, portMappings: ports, privileged: true }, dir);
    assert.deepEqual(h.port_mappings, []);
    assert.equal(h.linux.security_context.namespace_options.network, 'NODE');
    assert.equal(h.linux.security_context.privileged, true);
  });
});

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

  test('connectRuntime still finds Docker on the Docker socket', { skip: !dockerUp && 'no dockerd' }, async () => {
    assert.ok((await connectRuntime(DOCKER_ENDPOINT)) instanceof DockerRuntime);
  });

  test("an endpoint where nothing listens fails with both probes' reasons", async () => {
    const missing = `unix://${join(tmpdir(), `ke-no-such-${process.pid}.sock`)}`;
    await assert.rejects(connectRuntime(missing), (err: unknown) => {
      assert.ok(err instanceof RuntimeUnavailableError);
      assert.match(err.message, /neither a Docker engine .* nor a CRI runtime/);
      assert.match(err.message, /ENOENT/);
      return true;
    });
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

  test('works from a single-file esbuild bundle run elsewhere (the schema travels inside)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ke-cri-bundle-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        `import { CriRuntime } from ${JSON.stringify(join(here, '../../../../../../src/edge/edged/runtime/cri/runtime.ts'))};\nconst rt = await CriRuntime.connect(process.argv[2]);\nconsole.log(JSON.stringify(await rt.version()));\nrt.close();\n`,
      );
      await build({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: join(dir, 'out.mjs'),
        logLevel: 'silent',
        banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      });
      const { stdout } = await run(process.execPath, [join(dir, 'out.mjs'), cd.endpoint], { cwd: dir });
      assert.equal((JSON.parse(stdout) as { runtimeName: string }).runtimeName, 'containerd');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
