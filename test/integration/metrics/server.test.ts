// The daemons' metrics endpoint on loopback: Prometheus text on /metrics, /healthz, nothing else; a port that is
// taken costs the metrics, not the daemon.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { logger } from '../../../src/core/log.ts';
import { startMetricsServer, startMetricsServerOrWarn, splitBindAddress } from '../../../src/metrics/server.ts';

const log = logger('metrics-test');

test('/metrics serves the registry as Prometheus text, /healthz answers ok, other paths 404, writes 405', async () => {
  const registry = new Registry();
  const c = new Counter({ name: 'test_things_total', help: 'Things.', labelNames: ['kind'] as const, registers: [registry] });
  c.inc({ kind: 'a' }, 3);
  const srv = await startMetricsServer({ bindAddress: '127.0.0.1:0', registry, log });
  try {
    const base = `http://127.0.0.1:${srv.address.port}`;
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^# TYPE test_things_total counter$/m);
    assert.match(text, /^test_things_total\{kind="a"\} 3$/m);
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok');
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status, 405);
  } finally {
    await srv.close();
  }
});

test('a bind address that is taken: startMetricsServerOrWarn gives no server instead of failing', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as { port: number }).port;
  try {
    assert.equal(await startMetricsServerOrWarn({ bindAddress: `127.0.0.1:${port}`, registry: new Registry(), log }), undefined);
  } finally {
    holder.close();
  }
});

test('bind addresses as KubeEdge writes them', () => {
  assert.deepEqual(splitBindAddress('127.0.0.1:9091'), { host: '127.0.0.1', port: 9091 });
  assert.deepEqual(splitBindAddress(':9091'), { host: '0.0.0.0', port: 9091 });
  assert.deepEqual(splitBindAddress('[::1]:9091'), { host: '::1', port: 9091 });
});
