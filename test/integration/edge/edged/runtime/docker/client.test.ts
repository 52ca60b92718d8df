import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DockerError, RuntimeUnavailableError } from '../../../../../../src/edge/edged/runtime/errors.ts';
import { BUSYBOX_IMAGE, DOCKER_ENDPOINT, dockerSkip, ensureTestImages, removeContainersWithLabel } from '../../../../../helpers/docker.ts';
import { DockerClient, demultiplex, splitImageRef } from '../../../../../../src/edge/edged/runtime/docker/client.ts';
import { DockerRuntime } from '../../../../../../src/edge/edged/runtime/docker/runtime.ts';

const run = promisify(execFile);
const TEST_LABEL = `io.kubeedge-ts.test=client-${process.pid}`;
const skip = await dockerSkip();

test('splitImageRef keeps registry ports and digests apart from tags', () => {
  assert.deepEqual(splitImageRef('busybox'), { name: 'busybox', tag: 'latest' });
  assert.deepEqual(splitImageRef('local/busybox:1'), { name: 'local/busybox', tag: '1' });
  assert.deepEqual(splitImageRef('reg:5000/a/b'), { name: 'reg:5000/a/b', tag: 'latest' });
  assert.deepEqual(splitImageRef('reg:5000/a/b:v2'), { name: 'reg:5000/a/b', tag: 'v2' });
  assert.deepEqual(splitImageRef('a@sha256:abc'), { name: 'a', tag: 'sha256:abc' });
});

test('demultiplex splits stdout and stderr frames', () => {
  const frame = (stream: number, text: string): Buffer => {
    const payload = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = stream;
    head.writeUInt32BE(payload.length, 4);
    return Buffer.concat([head, payload]);
  };
  assert.deepEqual(demultiplex(Buffer.concat([frame(1, 'out1 '), frame(2, 'err'), frame(1, 'out2')])), { stdout: 'out1 out2', stderr: 'err' });
});

test('an endpoint nobody listens on gives RuntimeUnavailableError', async () => {
  const client = new DockerClient({ endpoint: 'unix:///nonexistent/docker.sock' });
  await assert.rejects(client.ping(), RuntimeUnavailableError);
  await assert.rejects(DockerRuntime.connect('unix:///nonexistent/docker.sock'), /unavailable/);
  assert.throws(() => new DockerClient({ endpoint: 'tcp://127.0.0.1:2375' }), /only unix/);
});

describe('Docker Engine API client against the real dockerd', { skip }, () => {
  const client = new DockerClient({ endpoint: DOCKER_ENDPOINT });
  before(async () => {
    await ensureTestImages();
  });
  after(async () => {
    await removeContainersWithLabel(TEST_LABEL);
  });

  test('ping, version and info', async () => {
    assert.equal(await client.ping(), 'OK');
    const v = await client.version();
    assert.match(v.ApiVersion, /^1\.\d+$/);
    const info = await client.info();
    assert.equal(typeof info['Containers'], 'number');
  });

  test("pulling a nonexistent image fails with Docker's message", async () => {
    const err = await client.pullImage('local/does-not-exist-kubeedge-ts:0').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof DockerError, `expected DockerError, got ${String(err)}`);
    assert.notEqual(err.message, '');
    // The same text the docker CLI prints for the same pull (registry unreachable or image unknown).
    const cli = await run('docker', ['pull', 'local/does-not-exist-kubeedge-ts:0']).then(
      () => '',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    assert.ok(cli.includes(err.message), `CLI said ${JSON.stringify(cli)}, client said ${JSON.stringify(err.message)}`);
  });

  test('inspect of a missing image is a 404 DockerError', async () => {
    await assert.rejects(client.inspectImage('local/nope-kubeedge-ts:9'), (e: unknown) => e instanceof DockerError && e.statusCode === 404);
  });

  test('container lifecycle: create, start, logs, exec, list by label, wait, remove', async () => {
    const name = `ke-client-test-${process.pid}`;
    const [k, v] = TEST_LABEL.split('=') as [string, string];
    const { Id } = await client.createContainer(name, {
      Image: BUSYBOX_IMAGE,
      Cmd: ['sh', '-c', 'echo hello; echo oops >&2; sleep 30'],
      Labels: { [k]: v },
    });
    await client.startContainer(Id);
    const listed = await client.listContainers({ labels: [TEST_LABEL] });
    assert.deepEqual(
      listed.map((c) => c.Id),
      [Id],
    );
    const inspected = await client.inspectContainer(Id);
    assert.equal(inspected.State.Running, true);

    const execId = await client.execCreate(Id, ['sh', '-c', 'echo from-exec; exit 3']);
    const out = await client.execStart(execId, 10_000);
    assert.equal(out.stdout, 'from-exec\n');
    assert.equal((await client.execInspect(execId)).ExitCode, 3);

    let logs = await client.containerLogs(Id);
    for (let i = 0; i < 20 && logs.stdout === ''; i++) {
      await new Promise((r) => setTimeout(r, 100));
      logs = await client.containerLogs(Id);
    }
    assert.equal(logs.stdout, 'hello\n');
    assert.equal(logs.stderr, 'oops\n');

    const waiting = client.waitContainer(Id);
    await client.killContainer(Id, 'SIGKILL');
    assert.equal((await waiting).StatusCode, 137);
    await assert.rejects(client.createContainer(name, { Image: BUSYBOX_IMAGE }), (e: unknown) => e instanceof DockerError && e.statusCode === 409);
    await client.removeContainer(Id, { force: true });
    await assert.rejects(client.inspectContainer(Id), (e: unknown) => e instanceof DockerError && e.statusCode === 404 && /No such container/i.test(e.message));
  });

  test('stop with a timeout SIGKILLs a process that ignores SIGTERM', async () => {
    const [k, v] = TEST_LABEL.split('=') as [string, string];
    const { Id } = await client.createContainer(`ke-client-stop-${process.pid}`, {
      Image: BUSYBOX_IMAGE,
      Cmd: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'],
      Labels: { [k]: v },
    });
    await client.startContainer(Id);
    await client.stopContainer(Id, 1);
    const st = (await client.inspectContainer(Id)).State;
    assert.equal(st.Running, false);
    assert.equal(st.ExitCode, 137);
  });
});
