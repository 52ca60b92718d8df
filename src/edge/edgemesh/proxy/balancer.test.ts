import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Balancer, DEAD_RETRY_MS } from './balancer.ts';
import { backendsFor } from './backends.ts';
import type { Backend } from './types.ts';

const A: Backend = { key: '10.0.0.1:80', ip: '10.0.0.1', port: 80 };
const B: Backend = { key: '10.0.0.2:80', ip: '10.0.0.2', port: 80 };

test('RoundRobin alternates between two backends', () => {
  const b = new Balancer({ strategy: 'RoundRobin' });
  const firsts = [1, 2, 3, 4].map(() => b.order([A, B])[0]?.key);
  assert.deepEqual(firsts, [A.key, B.key, A.key, B.key]);
});

test('Random picks by the random source and still offers every backend', () => {
  const b = new Balancer({ strategy: 'Random', random: () => 0.9 });
  assert.deepEqual(
    b.order([A, B]).map((x) => x.key),
    [B.key, A.key],
  );
});

test('a backend that failed goes last until its retry time, then takes turns again', () => {
  let now = 1000;
  const b = new Balancer({ strategy: 'RoundRobin', now: () => now });
  b.failed(A);
  assert.deepEqual(
    [b.order([A, B]), b.order([A, B])].map((o) => o.map((x) => x.key)),
    [
      [B.key, A.key],
      [B.key, A.key],
    ],
  );
  now += DEAD_RETRY_MS + 1;
  const firsts = [b.order([A, B])[0]?.key, b.order([A, B])[0]?.key];
  assert.ok(firsts.includes(A.key), 'A is picked again after the retry time');
});

test('ClientIP affinity keeps a client on the backend it reached, until the timeout', () => {
  let now = 0;
  const b = new Balancer({ strategy: 'RoundRobin', affinity: { timeoutSeconds: 5 }, now: () => now });
  const first = b.order([A, B], '1.1.1.1')[0] as Backend;
  b.succeeded(first, '1.1.1.1');
  for (let i = 0; i < 4; i++) assert.equal(b.order([A, B], '1.1.1.1')[0]?.key, first.key);
  assert.notEqual(b.order([A, B], '2.2.2.2')[0]?.key, undefined);
  now += 6000;
  const later = [b.order([A, B], '1.1.1.1')[0]?.key, b.order([A, B], '1.1.1.1')[0]?.key];
  assert.ok(later.includes(first.key === A.key ? B.key : A.key), 'affinity expired');
});

test('backendsFor matches the endpoint port by name and protocol and skips endpoints not ready', () => {
  const eps = [
    {
      ip: '10.0.0.2',
      ready: true,
      nodeName: 'n2',
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    },
    { ip: '10.0.0.1', ready: true, ports: [{ name: 'http', port: 8081, protocol: 'TCP' }] },
    { ip: '10.0.0.3', ready: false, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  ];
  assert.deepEqual(backendsFor({ name: 'http', port: 80, protocol: 'TCP' }, eps), [
    { key: '10.0.0.1:8081', ip: '10.0.0.1', port: 8081 },
    { key: '10.0.0.2:8080', ip: '10.0.0.2', port: 8080, nodeName: 'n2' },
  ]);
  assert.deepEqual(
    backendsFor({ name: 'dns', port: 53, protocol: 'UDP' }, eps).map((x) => x.key),
    ['10.0.0.2:53'],
  );
});
