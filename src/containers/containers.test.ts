import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demultiplex, jsonLines, progressFailure, splitImageRef } from './docker/client.ts';
import { grpcTarget, socketPathOf } from './endpoints.ts';
import { ContainerEngineError, CriError, DockerError, RuntimeUnavailableError, isConflict, isNotFound } from './errors.ts';

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

test('JSON-lines progress: lines torn across chunks join, junk is dropped, an error line is the failure', () => {
  const seen: Array<Record<string, unknown>> = [];
  const r = jsonLines((p) => seen.push(p));
  r.push(Buffer.from('{"status":"Pulling"}\n{"stat'));
  r.push(Buffer.from('us":"Downloading"}\nnot json\n'));
  r.push(Buffer.from('{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}'));
  r.end();
  assert.deepEqual(
    seen.map((p) => p['status'] ?? progressFailure(p)),
    ['Pulling', 'Downloading', 'manifest unknown'],
  );
  assert.equal(progressFailure({ errorDetail: { message: 'only the detail' } }), 'only the detail');
  assert.equal(progressFailure({ stream: 'Step 1/2' }), undefined);
});

test('endpoints: unix:// or a bare path; anything else is refused', () => {
  assert.equal(socketPathOf('unix:///run/containerd/containerd.sock'), '/run/containerd/containerd.sock');
  assert.equal(socketPathOf('/var/run/docker.sock'), '/var/run/docker.sock');
  assert.equal(grpcTarget('/run/x.sock'), 'unix:///run/x.sock');
  assert.throws(() => socketPathOf('tcp://127.0.0.1:2375'), RuntimeUnavailableError);
});

test('errors are engine-neutral: not found and conflict read the same from Docker and CRI', () => {
  assert.ok(isNotFound(new DockerError(404, 'No such container: x')));
  assert.ok(isNotFound(new CriError('ContainerStatus', 5, 'an error occurred when try to find container "x": not found')));
  assert.ok(isConflict(new DockerError(409, 'Conflict. The container name "/x" is already in use')));
  assert.ok(isConflict(new CriError('CreateContainer', 6, 'already exists')));
  assert.ok(!isNotFound(new DockerError(500, 'boom')) && !isConflict(new CriError('Version', 14, 'unavailable')));
  const down = new RuntimeUnavailableError('unix:///x.sock', 'connect ENOENT');
  assert.ok(down instanceof ContainerEngineError);
  assert.deepEqual([down.code, down.endpoint, isNotFound(down)], ['KE_RUNTIME_UNAVAILABLE', 'unix:///x.sock', false]);
  assert.deepEqual([new DockerError(404, 'x').code, new CriError('m', 5, 'x').code], ['KE_DOCKER', 'KE_CRI']);
});
