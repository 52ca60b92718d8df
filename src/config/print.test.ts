import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { parseCloudCoreConfig, parseEdgeCoreConfig } from './load.ts';
import { defaultCloudCoreConfig, defaultConfigYaml, defaultEdgeCoreConfig, minConfigYaml } from './print.ts';

const host = { ip: '192.0.2.30', hostname: 'printer' };

for (const kind of ['cloudcore', 'edgecore'] as const) {
  const load = (text: string) => (kind === 'cloudcore' ? parseCloudCoreConfig(text, 'printed', { host }) : parseEdgeCoreConfig(text, 'printed', { host }));

  test(`${kind} --defaultconfig: three comment lines, apiVersion and kind first, loads back to the defaults`, () => {
    const text = defaultConfigYaml(kind, host);
    const lines = text.split('\n');
    assert.ok(
      lines.slice(0, 3).every((l) => l.startsWith('#')),
      lines.slice(0, 4).join('\n'),
    );
    assert.match(lines[3] ?? '', /^apiVersion: (cloudcore|edgecore)\.config\.kubeedge\.io\/v1alpha[12]$/);
    assert.match(lines[4] ?? '', /^kind: (CloudCore|EdgeCore)$/);
    const { config, warnings } = load(text);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, kind === 'cloudcore' ? defaultCloudCoreConfig(host) : defaultEdgeCoreConfig(host));
    assert.deepEqual(parseYaml(text), config);
  });

  test(`${kind} --minconfig: three comment lines, loads back without problems or warnings`, () => {
    const text = minConfigYaml(kind, host);
    assert.ok(
      text
        .split('\n')
        .slice(0, 3)
        .every((l) => l.startsWith('#')),
    );
    const { warnings } = load(text);
    assert.deepEqual(warnings, []);
    assert.ok(text.length < defaultConfigYaml(kind, host).length / 2);
  });
}

test('min configs carry the keys KubeEdge puts in them', () => {
  const cloud = parseYaml(minConfigYaml('cloudcore', host)) as { modules: Record<string, Record<string, unknown>> };
  assert.deepEqual(Object.keys(cloud.modules), ['cloudHub', 'router', 'iptablesManager']);
  assert.equal(cloud.modules['cloudHub']?.['nodeLimit'], 1000);
  assert.deepEqual(cloud.modules['cloudHub']?.['advertiseAddress'], ['192.0.2.30']);
  const edge = parseYaml(minConfigYaml('edgecore', host)) as { database: unknown; modules: Record<string, Record<string, unknown>> };
  assert.deepEqual(edge.database, { dataSource: '/var/lib/kubeedge/edgecore.db' });
  assert.deepEqual(Object.keys(edge.modules), ['deviceTwin', 'edged', 'edgeHub', 'eventBus']);
  assert.equal(edge.modules['edgeHub']?.['httpServer'], 'https://192.0.2.30:10002');
  assert.equal(edge.modules['edgeHub']?.['token'], '');
  assert.equal(edge.modules['edged']?.['hostnameOverride'], 'printer');
});

test('the cloud min config loads to a nodeLimit of 1000, the rest defaults', () => {
  const { config } = parseCloudCoreConfig(minConfigYaml('cloudcore', host), 'min', { host });
  assert.equal(config.modules.cloudHub.nodeLimit, 1000);
  assert.equal(config.modules.cloudHub.keepaliveInterval, 30);
  assert.equal(config.modules.edgeController.enable, true);
});
