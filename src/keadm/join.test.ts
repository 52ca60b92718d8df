import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEdgeCoreConfig } from '../config/load.ts';
import { DEFAULT_EDGE_DIRS, edgeCoreYaml } from './join.ts';

test('the edgecore.yaml keadm join writes loads with no warning: every key it sets has an effect', () => {
  const yaml = edgeCoreYaml({
    cloudcoreIpPort: '192.0.2.10:10000',
    certPort: 10002,
    token: 'abc.def',
    nodeName: 'edge-a',
    runtimeEndpoint: 'unix:///var/run/docker.sock',
    dirs: DEFAULT_EDGE_DIRS,
  });
  const { config, warnings } = parseEdgeCoreConfig(yaml, 'edgecore.yaml', { host: { ip: '192.0.2.20', hostname: 'edge-a' } });
  assert.deepEqual(
    warnings.filter((w) => !/hold KubeEdge v1\.15\.4's default/.test(w)),
    [],
  );
  assert.equal(config.modules.edged.tailoredKubeletConfig.containerRuntimeEndpoint, 'unix:///var/run/docker.sock');
  assert.equal(config.modules.edged.rootDirectory, '/var/lib/kubelet');
  assert.equal(config.modules.edgeHub.httpServer, 'https://192.0.2.10:10002');
});

test('join --edgemesh writes EdgeMesh on, the relay address and the node pod network, with no warning', () => {
  const yaml = edgeCoreYaml({
    cloudcoreIpPort: '192.0.2.10:10000',
    certPort: 10002,
    token: 'abc.def',
    nodeName: 'edge-node-2',
    runtimeEndpoint: 'unix:///var/run/docker.sock',
    dirs: DEFAULT_EDGE_DIRS,
    edgeMesh: { listenInterface: 'kem2-abcdef', listenPort: 40002, dockerNetwork: 'kubeedge-mesh-edge-node-2', tunnelServer: '192.0.2.10:10004' },
  });
  const { config, warnings } = parseEdgeCoreConfig(yaml, 'edgecore.yaml', { host: { ip: '192.0.2.20', hostname: 'edge-a' } });
  assert.deepEqual(
    warnings.filter((w) => !/hold KubeEdge v1\.15\.4's default/.test(w)),
    [],
  );
  const m = config.modules;
  assert.deepEqual([m.edgeMesh.enable, m.edgeMesh.listenInterface, m.edgeMesh.listenPort], [true, 'kem2-abcdef', 40002]);
  assert.equal(m.edgeStream.server, '192.0.2.10:10004');
  assert.equal(m.edged.dockerNetwork, 'kubeedge-mesh-edge-node-2');
});

test('with a tunnel server, keadm join turns EdgeStream on and puts the kubelet API on the given port, with no warning', () => {
  const yaml = edgeCoreYaml({
    cloudcoreIpPort: '192.0.2.10:10000',
    certPort: 10002,
    token: 'abc.def',
    nodeName: 'edge-a',
    runtimeEndpoint: 'unix:///var/run/docker.sock',
    dirs: DEFAULT_EDGE_DIRS,
    stream: { server: '192.0.2.10:10004', kubeletPort: 10351 },
  });
  const { config, warnings } = parseEdgeCoreConfig(yaml, 'edgecore.yaml', { host: { ip: '192.0.2.20', hostname: 'edge-a' } });
  assert.deepEqual(
    warnings.filter((w) => !/hold KubeEdge v1\.15\.4's default/.test(w)),
    [],
  );
  assert.equal(config.modules.edgeStream.enable, true);
  assert.equal(config.modules.edgeStream.server, '192.0.2.10:10004');
  assert.equal(config.modules.edged.tailoredKubeletConfig.readOnlyPort, 10351);
});
