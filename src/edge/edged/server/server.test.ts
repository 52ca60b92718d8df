import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeWsMessage, resizeParser } from './channels.ts';
import { logOptions, parseRoute, streamFlags } from './server.ts';
import { exitCodeStatus } from './status.ts';

test('kubelet paths route as the kubelet does (with and without the pod uid); others do not', () => {
  assert.deepEqual(parseRoute('/containerLogs/ns1/web/httpd'), { kind: 'logs', namespace: 'ns1', pod: 'web', container: 'httpd' });
  assert.deepEqual(parseRoute('/exec/ns1/web/3f1c-uid/httpd'), { kind: 'exec', namespace: 'ns1', pod: 'web', container: 'httpd' });
  assert.deepEqual(parseRoute('/attach/default/web/c'), { kind: 'attach', namespace: 'default', pod: 'web', container: 'c' });
  assert.deepEqual(parseRoute('/portForward/default/web'), { kind: 'portForward', namespace: 'default', pod: 'web' });
  assert.deepEqual(parseRoute('/healthz'), { kind: 'healthz' });
  assert.deepEqual(parseRoute('/metrics/resource'), { kind: 'metricsResource' });
  assert.deepEqual(parseRoute('/stats/summary'), { kind: 'statsSummary' });
  assert.equal(parseRoute('/exec/default/web'), undefined);
  assert.equal(parseRoute('/run/default/web/c'), undefined);
});

test("stream flags: the API server's input/output/error names and kubectl's stdin/stdout/stderr", () => {
  assert.deepEqual(streamFlags(new URLSearchParams('input=1&output=1&tty=1')), { stdin: true, stdout: true, stderr: false, tty: true });
  assert.deepEqual(streamFlags(new URLSearchParams('stdout=true&stderr=true')), { stdin: false, stdout: true, stderr: true, tty: false });
  assert.deepEqual(streamFlags(new URLSearchParams('output=0')), { stdin: false, stdout: false, stderr: false, tty: false });
});

test('log options: tail, since (seconds or RFC 3339), follow, timestamps; bad numbers are refused', () => {
  const o = logOptions(new URLSearchParams('tailLines=5&follow=true&timestamps=1&sinceTime=2026-01-02T03:04:05Z'));
  assert.deepEqual(o, { follow: true, timestamps: true, tailLines: 5, since: new Date('2026-01-02T03:04:05Z') });
  const s = logOptions(new URLSearchParams('sinceSeconds=60'));
  assert.ok(s.since && Math.abs(Date.now() - 60_000 - s.since.getTime()) < 5000);
  assert.throws(() => logOptions(new URLSearchParams('tailLines=-1')), /non-negative integer/);
  assert.throws(() => logOptions(new URLSearchParams('sinceTime=yesterday')), /RFC 3339/);
});

test('resize channel: concatenated and split JSON sizes; a malformed one is dropped', () => {
  const sizes: Array<{ width: number; height: number }> = [];
  const feed = resizeParser((s) => sizes.push(s));
  feed(Buffer.from('{"Width":80,"Height":24}{"Wid'));
  feed(Buffer.from('th":100,"Height":40}{oops}'));
  assert.deepEqual(sizes, [
    { width: 80, height: 24 },
    { width: 100, height: 40 },
  ]);
});

test('channel messages: binary (first byte) and base64 (first character) framing', () => {
  assert.deepEqual(decodeWsMessage(Buffer.from([0, 104, 105]), true, false), { channel: 0, payload: Buffer.from('hi') });
  assert.deepEqual(decodeWsMessage(Buffer.from(`4${Buffer.from('{}').toString('base64')}`), false, true), { channel: 4, payload: Buffer.from('{}') });
  assert.equal(decodeWsMessage(Buffer.alloc(0), true, false), undefined);
});

test('a non-zero exit is the Status kubectl turns into its own exit code', () => {
  const s = exitCodeStatus(['sh', '-c', 'exit 3'], 3);
  assert.equal(s.reason, 'NonZeroExitCode');
  assert.deepEqual(s.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
});
