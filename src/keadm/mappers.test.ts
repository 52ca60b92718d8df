import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEdgeCoreConfig } from '../config/load.ts';
import { edgeCoreYaml, stateRootDirs } from './join.ts';
import { dmiSockOf, parseMappers } from './mappers.ts';

test('--with-mapper takes a comma-separated list of known mappers, once each; an unknown one is a usage error', () => {
  assert.deepEqual(parseMappers('virtual,modbus'), ['virtual', 'modbus']);
  assert.deepEqual(parseMappers(' modbus , modbus '), ['modbus']);
  assert.deepEqual(parseMappers(undefined), []);
  assert.throws(
    () => parseMappers('virtual,opcua'),
    (err: Error & { exitCode?: number }) => err.exitCode === 2 && /opcua/.test(err.message) && /virtual, modbus/.test(err.message),
  );
});

test("with mappers, the edgecore.yaml keadm writes turns on DeviceTwin (DMI on the node's own socket) and EventBus's embedded broker on the node's port", () => {
  const dirs = stateRootDirs('/srv/ke/edge-node-2');
  const yaml = edgeCoreYaml({
    cloudcoreIpPort: '192.0.2.10:10000',
    certPort: 10002,
    token: 'abc.def',
    nodeName: 'edge-node-2',
    runtimeEndpoint: 'unix:///var/run/docker.sock',
    dirs,
    devices: { dmiSockPath: dmiSockOf(dirs.configDir), mqttPort: 1885 },
  });
  const { config } = parseEdgeCoreConfig(yaml, 'edgecore.yaml', { host: { ip: '192.0.2.20', hostname: 'edge-node-2' } });
  assert.equal(config.modules.deviceTwin.enable, true);
  assert.equal(config.modules.deviceTwin.dmiSockPath, '/srv/ke/edge-node-2/etc/dmi/dmi.sock');
  assert.equal(config.modules.eventBus.enable, true);
  assert.equal(config.modules.eventBus.mqttMode, 0);
  assert.equal(config.modules.eventBus.mqttServerInternal, 'tcp://127.0.0.1:1885');
});

test('without mappers the edge config leaves devices off, as before', () => {
  const yaml = edgeCoreYaml({
    cloudcoreIpPort: '192.0.2.10:10000',
    certPort: 10002,
    token: 'abc.def',
    nodeName: 'edge-a',
    runtimeEndpoint: 'unix:///var/run/docker.sock',
    dirs: stateRootDirs('/srv/ke/edge-a'),
  });
  assert.doesNotMatch(yaml, /deviceTwin|eventBus/);
});
