import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { parseCloudCoreConfig, parseEdgeCoreConfig } from './load.ts';
import { defaultCloudCoreConfig, defaultConfigYaml, defaultEdgeCoreConfig, minConfigYaml } from './print.ts';

const host = { ip: '192.0.2.30', hostname: 'printer' };

for (const kind of ['cloudcore', 'edgecore'] as const) {
  const load = (text: string) => (kind === 'cloudcore' ? parseCloudCoreConfig(text, 'printed', { host }) : parseEdgeCoreConfig(text, 'printed', { host }));

  test(`${kind} --defaultconfig: three comment lines, apiVersion and kind first, loads back to the defaults, says what has no effect`, () => {
    const text = defaultConfigYaml(kind, host);
    const lines = text.split('\n');
    assert.ok(
      lines.slice(0, 3).every((l) => l.startsWith('#')),
      lines.slice(0, 4).join('\n'),
    );
    assert.match(lines[3] ?? '', /^apiVersion: (cloudcore|edgecore)\.config\.kubeedge\.io\/v1alpha[12]$/);
    assert.match(lines[4] ?? '', /^kind: (CloudCore|EdgeCore)$/);
    const { config, warnings } = load(text);
    // one line for the keys KubeEdge prints that have no effect here; no module that is not built is enabled
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /^\d+ keys of this file have no effect in kubeedge-ts and hold KubeEdge v1\.15\.4's default/);
    assert.deepEqual(config, kind === 'cloudcore' ? defaultCloudCoreConfig(host) : defaultEdgeCoreConfig(host));
    if (kind === 'cloudcore') assert.deepEqual(parseYaml(text), config);
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
  assert.deepEqual(Object.keys(edge.modules), ['edged', 'edgeHub', 'eventBus']);
  assert.equal(edge.modules['edgeHub']?.['enable'], true, 'KubeEdge v1.15.4 prints false, which leaves the edge offline');
  assert.equal(edge.modules['eventBus']?.['enable'], true);
  assert.equal(edge.modules['edged']?.['remoteRuntimeEndpoint'], 'unix:///run/containerd/containerd.sock');
  assert.equal(cloud.modules['cloudHub']?.['enable'], true, 'KubeEdge v1.15.4 prints false, which serves no edge');
  assert.equal(edge.modules['edgeHub']?.['httpServer'], 'https://192.0.2.30:10002');
  assert.equal(edge.modules['edgeHub']?.['token'], '');
  assert.equal(edge.modules['edged']?.['hostnameOverride'], 'printer');
});

test('edgecore --defaultconfig prints the v1.15 endpoint keys, not the resolved v1.16+ ones, and not-built modules disabled', () => {
  const edge = parseYaml(defaultConfigYaml('edgecore', host)) as { modules: Record<string, Record<string, unknown>> };
  const edged = edge.modules['edged'] ?? {};
  assert.equal(edged['remoteRuntimeEndpoint'], 'unix:///run/containerd/containerd.sock');
  assert.equal((edged['tailoredKubeletConfig'] as Record<string, unknown>)['containerRuntimeEndpoint'], undefined);
  for (const m of ['serviceBus', 'dbTest', 'edgeStream', 'edgeMesh']) assert.equal(edge.modules[m]?.['enable'], false, m);
  for (const m of ['eventBus', 'deviceTwin']) assert.equal(edge.modules[m]?.['enable'], true, m);
  const cloud = parseYaml(defaultConfigYaml('cloudcore', host)) as { modules: Record<string, Record<string, unknown>> };
  assert.equal(cloud.modules['deviceController']?.['enable'], true, 'deviceController is built: enabled as in v1.15.4');
  for (const m of ['nodeUpgradeJobController', 'dynamicController', 'cloudStream', 'router']) {
    assert.equal(cloud.modules[m]?.['enable'], false, m);
  }
  assert.equal(cloud.modules['iptablesManager']?.['enable'], true, 'iptablesManager is built: enabled as in v1.15.4');
});

test('the cloud min config loads to a nodeLimit of 1000, the rest defaults', () => {
  const { config } = parseCloudCoreConfig(minConfigYaml('cloudcore', host), 'min', { host });
  assert.equal(config.modules.cloudHub.nodeLimit, 1000);
  assert.equal(config.modules.cloudHub.keepaliveInterval, 30);
  assert.equal(config.modules.edgeController.enable, true);
});
