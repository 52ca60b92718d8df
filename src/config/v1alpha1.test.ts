import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from './errors.ts';
import { parseEdgeCoreConfig } from './load.ts';

const host = { ip: '192.0.2.20', hostname: 'edge-node-1' };
const parse = (text: string) => parseEdgeCoreConfig(text, 'edgecore.yaml', { host });

/** An edgecore.yaml in the v1.4 layout (edged flat kubelet-like fields, docker runtime, edgeMesh in modules). */
const V1_4 = `apiVersion: edgecore.config.kubeedge.io/v1alpha1
database:
  aliasName: default
  dataSource: /var/lib/kubeedge/edgecore.db
  driverName: sqlite3
kind: EdgeCore
modules:
  edgeHub:
    enable: true
    heartbeat: 15
    httpServer: https://10.0.0.5:10002
    projectID: e632aba927ea4ac2b575ec1603d56f10
    quic:
      handshakeTimeout: 30
      readDeadline: 15
      server: 10.0.0.5:10001
      writeDeadline: 15
    rotateCertificates: true
    tlsCaFile: /etc/kubeedge/ca/rootCA.crt
    tlsCertFile: /etc/kubeedge/certs/server.crt
    tlsPrivateKeyFile: /etc/kubeedge/certs/server.key
    token: ""
    websocket:
      enable: true
      handshakeTimeout: 30
      readDeadline: 15
      server: 10.0.0.5:10000
      writeDeadline: 15
  edgeMesh:
    enable: true
    lbStrategy: RoundRobin
    listenInterface: docker0
    listenPort: 40001
    subNet: 9.251.0.0/16
  edged:
    cgroupDriver: systemd
    cgroupRoot: ""
    cgroupsPerQOS: true
    clusterDNS: "10.96.0.10,10.96.0.11"
    clusterDomain: "cluster.local"
    cniBinDir: /opt/cni/bin
    cniCacheDirs: /var/lib/cni/cache
    cniConfDir: /etc/cni/net.d
    concurrentConsumers: 5
    devicePluginEnabled: false
    dockerAddress: unix:///var/run/docker.sock
    edgedMemoryCapacity: 7852396000
    enable: true
    enableMetrics: true
    gpuPluginEnabled: false
    hostnameOverride: old-edge
    imageGCHighThreshold: 80
    imageGCLowThreshold: 40
    imagePullProgressDeadline: 60
    interfaceName: eth0
    maximumDeadContainersPerPod: 1
    networkPluginMTU: 1500
    nodeIP: 10.0.0.9
    nodeStatusUpdateFrequency: 20
    podSandboxImage: kubeedge/pause:3.1
    registerNode: true
    registerNodeNamespace: default
    remoteImageEndpoint: unix:///var/run/dockershim.sock
    remoteRuntimeEndpoint: unix:///var/run/dockershim.sock
    runtimeRequestTimeout: 2
    runtimeType: docker
    volumeStatsAggPeriod: 60000000000
  eventBus:
    enable: true
    mqttMode: 2
    mqttQOS: 0
    mqttRetain: false
    mqttServerExternal: tcp://127.0.0.1:1883
    mqttServerInternal: tcp://127.0.0.1:1884
    mqttSessionQueueSize: 100
  metaManager:
    contextSendGroup: hub
    contextSendModule: websocket
    enable: true
    podStatusSyncInterval: 60
  serviceBus:
    enable: false
`;

test('v1alpha1 edged fields land in the v1alpha2 shape (docker runtime)', () => {
  const { config, warnings } = parse(V1_4);
  const e = config.modules.edged;
  assert.equal(config.apiVersion, 'edgecore.config.kubeedge.io/v1alpha2');
  assert.equal(e.hostnameOverride, 'old-edge');
  assert.equal(e.nodeIP, '10.0.0.9');
  assert.equal(e.customInterfaceName, 'eth0');
  assert.equal(e.podSandboxImage, 'kubeedge/pause:3.1');
  assert.equal(e.maxPerPodContainerCount, 1);
  const k = e.tailoredKubeletConfig;
  assert.equal(k.containerRuntimeEndpoint, 'unix:///var/run/docker.sock');
  assert.equal(k.imageServiceEndpoint, 'unix:///var/run/docker.sock');
  assert.equal(k.nodeStatusUpdateFrequency, '20s');
  assert.equal(k.cgroupDriver, 'systemd');
  assert.deepEqual(k.clusterDNS, ['10.96.0.10', '10.96.0.11']);
  assert.equal(k.imageGCHighThresholdPercent, 80);
  assert.equal(k.imageGCLowThresholdPercent, 40);
  assert.deepEqual(config.modules.edgeMesh, {
    enable: true,
    lbStrategy: 'RoundRobin',
    listenInterface: 'docker0',
    listenPort: 40001,
    subNet: '9.251.0.0/16',
    dnsPort: 53,
    upstreamResolvConf: '/etc/resolv.conf',
  });
  assert.equal(config.modules.edgeHub.websocket.server, '10.0.0.5:10000');
  // obsolete keys are warned about at their own line; the layout change is announced once
  assert.ok(
    warnings.some((w) => /^apiVersion \(line 1\): old v1alpha1 layout/.test(w)),
    warnings.join('\n'),
  );
  assert.ok(
    warnings.some((w) => /^modules\.edged\.cniConfDir \(line 43\): .*ignored/.test(w)),
    warnings.join('\n'),
  );
  assert.ok(!warnings.some((w) => /unknown key/.test(w)), warnings.join('\n'));
  assert.ok(
    warnings.some((w) => /^modules\.metaManager\.podStatusSyncInterval \(line 80\)/.test(w)),
    warnings.join('\n'),
  );
});

test('v1alpha1 remote runtime uses remoteRuntimeEndpoint / remoteImageEndpoint', () => {
  const { config } = parse(
    'apiVersion: edgecore.config.kubeedge.io/v1alpha1\nkind: EdgeCore\nmodules:\n  edged:\n    runtimeType: remote\n    remoteRuntimeEndpoint: unix:///run/containerd/containerd.sock\n    remoteImageEndpoint: unix:///run/img.sock\n',
  );
  assert.equal(config.modules.edged.tailoredKubeletConfig.containerRuntimeEndpoint, 'unix:///run/containerd/containerd.sock');
  assert.equal(config.modules.edged.tailoredKubeletConfig.imageServiceEndpoint, 'unix:///run/img.sock');
});

test('v1alpha1 problems point at the key the user wrote', () => {
  const text =
    'apiVersion: edgecore.config.kubeedge.io/v1alpha1\nkind: EdgeCore\nmodules:\n  edged:\n    runtimeType: rkt\n    cgroupDriver: upstart\n    nodeStatusUpdateFrequency: -1\n    hostnameOverride: BAD_NAME\n';
  try {
    parse(text);
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(
      e.problems.map((p) => [p.path, p.line]),
      [
        ['modules.edged.runtimeType', 5],
        ['modules.edged.cgroupDriver', 6],
        ['modules.edged.nodeStatusUpdateFrequency', 7],
        ['modules.edged.hostnameOverride', 8],
      ],
    );
    assert.match(e.problems[0]?.message ?? '', /must be one of docker, remote, got "rkt"/);
    assert.match(e.problems[1]?.message ?? '', /must be one of cgroupfs, systemd, got "upstart"/);
  }
});
