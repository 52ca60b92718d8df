import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { parseCloudCoreConfig, parseEdgeCoreConfig } from './load.ts';

const host = { ip: '192.0.2.20', hostname: 'edge-node-1' };

function problems(parse: () => unknown): ConfigProblem[] {
  try {
    parse();
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test('edgecore modules.metrics: on by default on loopback; port 0 and another address accepted; a bad one named', () => {
  const edge = (text: string) => parseEdgeCoreConfig(text, 'edgecore.yaml', { host });
  assert.deepEqual(edge('kind: EdgeCore\n').config.modules.metrics, { enable: true, bindAddress: '127.0.0.1:10352' });
  assert.deepEqual(edge('modules:\n  metrics: {enable: false}\n').config.modules.metrics, { enable: false, bindAddress: '127.0.0.1:10352' });
  assert.equal(edge('modules:\n  metrics: {bindAddress: "0.0.0.0:0"}\n').config.modules.metrics.bindAddress, '0.0.0.0:0');
  assert.equal(edge('modules:\n  metrics: {bindAddress: "0.0.0.0:0"}\n').warnings.length, 0, 'an extension key is no surprise');
  const [p, ...rest] = problems(() => edge('modules:\n  metrics:\n    bindAddress: localhost\n'));
  assert.deepEqual(rest, []);
  assert.equal(p?.path, 'modules.metrics.bindAddress');
  assert.equal(p?.line, 3);
  assert.match(p?.message ?? '', /host:port with a port 0-65535/);
});

test('cloudcore commonConfig.monitorServer.bindAddress: KubeEdge default 127.0.0.1:9091; port 0 allowed; 65536 refused', () => {
  const cloud = (text: string) => parseCloudCoreConfig(text, 'cloudcore.yaml', { host });
  assert.equal(cloud('kind: CloudCore\n').config.commonConfig.monitorServer.bindAddress, '127.0.0.1:9091');
  assert.equal(cloud('commonConfig:\n  monitorServer: {bindAddress: "127.0.0.1:0"}\n').config.commonConfig.monitorServer.bindAddress, '127.0.0.1:0');
  const ps = problems(() => cloud('commonConfig:\n  monitorServer:\n    bindAddress: "127.0.0.1:65536"\n'));
  assert.deepEqual(
    ps.map((p) => p.path),
    ['commonConfig.monitorServer.bindAddress'],
  );
});
