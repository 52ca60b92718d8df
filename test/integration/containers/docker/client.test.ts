import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DockerClient, DockerError, RuntimeUnavailableError, detectEngine, isConflict, isNotFound, probeDocker } from '../../../../src/containers/index.ts';
import { tarArchive } from '../../../../src/keadm/tar.ts';
import { BUSYBOX_IMAGE, DOCKER_ENDPOINT, dockerSkip, ensureTestImages, removeContainersWithLabel } from '../../../helpers/docker.ts';

const run = promisify(execFile);
const TEST_LABEL = `io.kubeedge-ts.test=client-${process.pid}`;
const skip = await dockerSkip();

test('an endpoint nobody listens on gives RuntimeUnavailableError', async () => {
  const client = new DockerClient({ endpoint: 'unix:///nonexistent/docker.sock' });
  await assert.rejects(client.ping(), RuntimeUnavailableError);
  await assert.rejects(probeDocker('unix:///nonexistent/docker.sock'), /unavailable/);
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

  test('ping, version and info; detectEngine names it Docker', async () => {
    assert.equal(await client.ping(), 'OK');
    const engine = await detectEngine(DOCKER_ENDPOINT);
    assert.deepEqual([engine.kind, engine.endpoint, engine.name], ['docker', DOCKER_ENDPOINT, 'docker']);
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
    await assert.rejects(
      client.createContainer(name, { Image: BUSYBOX_IMAGE }),
      (e: unknown) => e instanceof DockerError && e.statusCode === 409 && isConflict(e),
    );
    await client.removeContainer(Id, { force: true });
    await assert.rejects(client.inspectContainer(Id), (e: unknown) => e instanceof DockerError && isNotFound(e) && /No such container/i.test(e.message));
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

  test('import a root filesystem, build on it (a failing RUN is a DockerError with its output), remove the images', async () => {
    const ref = `local/ke-client-import-${process.pid}:1`;
    const built = `local/ke-client-build-${process.pid}:1`;
    try {
      const lines: string[] = [];
      await client.importImage(Readable.from([tarArchive([{ name: 'hello.txt', data: Buffer.from('hi\n') }])]), ref, ['CMD ["sh"]'], (p) =>
        lines.push(JSON.stringify(p)),
      );
      assert.ok(lines.length > 0, 'import progress is reported');
      assert.deepEqual((await client.imageFacts(ref))?.Config?.Cmd, ['sh']);
      const context = tarArchive([{ name: 'Dockerfile', data: Buffer.from(`FROM ${BUSYBOX_IMAGE}\nRUN echo built > /built\n`) }]);
      const id = await client.buildImage(context, { tag: built, dockerfile: 'Dockerfile', labels: { 'io.kubeedge-ts.test': 'client' } });
      assert.equal((await client.imageFacts(built))?.Id, id);
      const failing = tarArchive([{ name: 'Dockerfile', data: Buffer.from(`FROM ${BUSYBOX_IMAGE}\nRUN echo no-luck; exit 3\n`) }]);
      await assert.rejects(client.buildImage(failing, { tag: `${built}-x`, dockerfile: 'Dockerfile' }), (e: unknown) => {
        assert.ok(e instanceof DockerError);
        assert.match(e.message, /returned a non-zero code: 3/);
        return true;
      });
    } finally {
      await client.removeImage(built);
      await client.removeImage(ref);
    }
    assert.equal(await client.imageFacts(ref), undefined);
    await client.removeImage(ref);
  });

  test('volumes: create with labels, list by label, remove (twice is fine)', async () => {
    const name = `ke-client-vol-${process.pid}`;
    const [k, v] = TEST_LABEL.split('=') as [string, string];
    const made = await client.createVolume(name, { [k]: v });
    assert.equal(made.Name, name);
    assert.deepEqual(
      (await client.listVolumes([TEST_LABEL])).map((x) => x.Name),
      [name],
    );
    await client.removeVolume(name);
    await client.removeVolume(name);
    assert.deepEqual(await client.listVolumes([TEST_LABEL]), []);
  });
});
