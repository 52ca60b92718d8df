import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { parseEdgeCoreConfig } from './load.ts';
import { parseDuration } from './duration.ts';

const host = { ip: '192.0.2.20', hostname: 'edge-node-1' };
const parse = (text: string) => parseEdgeCoreConfig(text, 'edgecore.yaml', { host });

function problemsOf(text: string): ConfigProblem[] {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  assert.fail('expected a ConfigError');
}

function onlyProblem(text: string): ConfigProblem {
  const ps = problemsOf(text);
  assert.equal(ps.length, 1, JSON.stringify(ps));
  return ps[0] as ConfigProblem;
}

test('KubeEdge v1.15.4 defaults fill in every level, with host IP and hostname', () => {
  const { config, warnings } = parse('apiVersion: edgecore.config.kubeedge.io/v1alpha2\nkind: EdgeCore\nmodules:\n  edgeHub:\n    token: abc\n');
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.database, { driverName: 'sqlite3', aliasName: 'default', dataSource: '/var/lib/kubeedge/edgecore.db' });
  const { edged, edgeHub, eventBus, metaManager, edgeMesh, serviceBus, deviceTwin, edgeStream } = config.modules;
  assert.equal(edged.hostnameOverride, 'edge-node-1');
  assert.equal(edged.podSandboxImage, 'kubeedge/pause:3.6');
  assert.equal(edged.registerNodeNamespace, 'default');
  assert.equal(edged.rootDirectory, '/var/lib/edged');
  assert.equal(edged.remoteRuntimeEndpoint, 'unix:///run/containerd/containerd.sock');
  const k = edged.tailoredKubeletConfig;
  assert.equal(k.containerRuntimeEndpoint, 'unix:///run/containerd/containerd.sock');
  assert.equal(k.imageServiceEndpoint, 'unix:///run/containerd/containerd.sock');
  assert.equal(k.maxPods, 110);
  assert.equal(k.cgroupDriver, 'cgroupfs');
  assert.equal(k.imageGCHighThresholdPercent, 80);
  assert.equal(k.imageGCLowThresholdPercent, 40);
  assert.equal(parseDuration(k.nodeStatusUpdateFrequency), 10_000);
  assert.equal(parseDuration(k.syncFrequency), 60_000);
  assert.equal(parseDuration(k.nodeStatusReportFrequency), 300_000);
  assert.equal(k.evictionHard['memory.available'], '100Mi');
  assert.equal(edgeHub.token, 'abc');
  assert.equal(edgeHub.heartbeat, 15);
  assert.equal(edgeHub.projectID, 'e632aba927ea4ac2b575ec1603d56f10');
  assert.deepEqual(edgeHub.websocket, { enable: true, handshakeTimeout: 30, readDeadline: 15, writeDeadline: 15, server: '192.0.2.20:10000' });
  assert.equal(edgeHub.quic.server, '192.0.2.20:10001');
  assert.equal(edgeHub.quic.enable, false);
  assert.equal(edgeHub.httpServer, 'https://192.0.2.20:10002');
  assert.equal(edgeHub.rotateCertificates, true);
  assert.equal(eventBus.enable, true, 'KubeEdge v1.15.4: enabled');
  assert.equal(eventBus.mqttMode, 2);
  assert.equal(eventBus.mqttServerInternal, 'tcp://127.0.0.1:1884');
  assert.equal(eventBus.eventBusTLS.enable, false);
  assert.equal(metaManager.contextSendGroup, 'hub');
  assert.equal(metaManager.contextSendModule, 'websocket');
  assert.equal(metaManager.remoteQueryTimeout, 60);
  assert.equal(metaManager.metaServer.server, '127.0.0.1:10550');
  assert.deepEqual(edgeMesh, {
    enable: false,
    lbStrategy: 'RoundRobin',
    listenInterface: 'docker0',
    subNet: '9.251.0.0/16',
    listenPort: 40001,
    dnsPort: 53,
    upstreamResolvConf: '/etc/resolv.conf',
  });
  assert.deepEqual(serviceBus, { enable: false, server: '127.0.0.1', port: 9060, timeout: 60 });
  assert.equal(deviceTwin.enable, true, 'KubeEdge v1.15.4: enabled');
  assert.equal(edgeStream.server, '127.0.0.1:10004');
});

test('imageServiceEndpoint follows containerRuntimeEndpoint when unset; kubelet keys edged does not apply are kept and warned about', () => {
  const { config, warnings } = parse(
    [
      'modules:',
      '  edged:',
      '    tailoredKubeletConfig:',
      '      containerRuntimeEndpoint: unix:///var/run/docker.sock',
      '      serializeImagePulls: false',
      '      kubeReserved: {cpu: 100m}',
    ].join('\n'),
  );
  const k = config.modules.edged.tailoredKubeletConfig as Record<string, unknown>;
  assert.equal(k['imageServiceEndpoint'], 'unix:///var/run/docker.sock');
  assert.equal(k['serializeImagePulls'], false);
  assert.deepEqual(k['kubeReserved'], { cpu: '100m' });
  assert.deepEqual(warnings, [
    'modules.edged.tailoredKubeletConfig.serializeImagePulls (line 5): has no effect in kubeedge-ts: image pulls are not rate limited; each runs when its pod needs it',
    'modules.edged.tailoredKubeletConfig.kubeReserved (line 6): has no effect in kubeedge-ts: resources are left to the engine: container limits only, no QoS cgroups, CPU/memory/topology managers or node allocatable enforcement',
  ]);
});

test('`key:` with no value means "use the default"', () => {
  const { config } = parse('modules:\n  edgeHub:\n    heartbeat:\n    websocket:\n');
  assert.equal(config.modules.edgeHub.heartbeat, 15);
  assert.equal(config.modules.edgeHub.websocket.enable, true);
});

test('unknown keys: one warning each, with line; config still loads', () => {
  const { config, warnings } = parse('modules:\n  edgeHub:\n    heartbeat: 20\n    heartbaet: 5\n  edged:\n    foo: 1\nextra: true\n');
  assert.equal(config.modules.edgeHub.heartbeat, 20);
  assert.deepEqual(warnings, [
    'modules.edgeHub.heartbaet (line 4): unknown key, ignored',
    'modules.edged.foo (line 6): unknown key, ignored',
    'extra (line 7): unknown key, ignored',
  ]);
});

test('negative heartbeat: path, line, found and valid', () => {
  const p = onlyProblem(
    'apiVersion: edgecore.config.kubeedge.io/v1alpha2\nkind: EdgeCore\nmodules:\n  edgeHub:\n    enable: true\n    token: x\n    heartbeat: -3\n',
  );
  assert.deepEqual(p, { path: 'modules.edgeHub.heartbeat', line: 7, message: 'must be a positive integer number of seconds, got -3' });
});

test('zero intervals and out-of-range ports are rejected', () => {
  assert.deepEqual(onlyProblem('modules:\n  metaManager:\n    remoteQueryTimeout: 0\n'), {
    path: 'modules.metaManager.remoteQueryTimeout',
    line: 3,
    message: 'must be a positive integer number of seconds, got 0',
  });
  assert.deepEqual(onlyProblem('modules:\n  serviceBus:\n    port: 0\n'), {
    path: 'modules.serviceBus.port',
    line: 3,
    message: 'must be a port number 1-65535, got 0',
  });
  assert.deepEqual(onlyProblem('modules:\n  edgeMesh:\n    listenPort: 65536\n'), {
    path: 'modules.edgeMesh.listenPort',
    line: 3,
    message: 'must be a port number 1-65535, got 65536',
  });
  const p = onlyProblem('modules:\n  edgeHub:\n    websocket:\n      server: 10.0.0.1\n');
  assert.equal(p.path, 'modules.edgeHub.websocket.server');
  assert.equal(p.line, 4);
  assert.match(p.message, /host:port.*got "10\.0\.0\.1"/);
});

test('wrong types', () => {
  const p = onlyProblem('modules:\n  edgeHub:\n    heartbeat: "15"\n');
  assert.deepEqual(p, { path: 'modules.edgeHub.heartbeat', line: 3, message: 'must be a positive integer number of seconds, got "15"' });
  const q = onlyProblem('modules:\n  edgeHub:\n    token: 12345\n');
  assert.deepEqual(q, { path: 'modules.edgeHub.token', line: 3, message: 'expected a string, got 12345' });
  const r = onlyProblem('modules: [a, b]\n');
  assert.equal(r.path, 'modules');
  assert.equal(r.line, 1);
});

test('`enable: yes` is a string in YAML 1.2 and is reported as expected true or false', () => {
  const p = onlyProblem('modules:\n  eventBus:\n    enable: yes\n');
  assert.equal(p.path, 'modules.eventBus.enable');
  assert.equal(p.line, 3);
  assert.match(p.message, /^expected true or false, got "yes"/);
});

test('unknown enum values', () => {
  assert.deepEqual(onlyProblem('modules:\n  eventBus:\n    mqttMode: 3\n'), {
    path: 'modules.eventBus.mqttMode',
    line: 3,
    message: 'must be an integer from 0 to 2 (0 internal broker, 1 both, 2 external broker), got 3',
  });
  assert.deepEqual(onlyProblem('modules:\n  edged:\n    tailoredKubeletConfig:\n      cgroupDriver: systemd2\n'), {
    path: 'modules.edged.tailoredKubeletConfig.cgroupDriver',
    line: 4,
    message: 'must be one of cgroupfs, systemd, got "systemd2"',
  });
  assert.equal(onlyProblem('modules:\n  edgeMesh:\n    lbStrategy: Fastest\n').line, 3);
});

test('durations must be Go durations', () => {
  const p = onlyProblem('modules:\n  edged:\n    tailoredKubeletConfig:\n      nodeStatusUpdateFrequency: 10\n');
  assert.equal(p.path, 'modules.edged.tailoredKubeletConfig.nodeStatusUpdateFrequency');
  assert.equal(p.line, 4);
  assert.match(p.message, /Go duration.*got 10$/);
  assert.equal(onlyProblem('modules:\n  edged:\n    tailoredKubeletConfig:\n      syncFrequency: 1 minute\n').line, 4);
});

test('edgeHub needs exactly one of websocket and quic', () => {
  const both = onlyProblem('modules:\n  edgeHub:\n    quic:\n      enable: true\n');
  assert.equal(both.path, 'modules.edgeHub.websocket.enable');
  assert.equal(both.line, 2); // websocket is not in the file: the nearest key present is edgeHub
  assert.match(both.message, /exactly one of websocket\.enable and quic\.enable.*websocket\.enable=true and quic\.enable=true/);
  const neither = onlyProblem('modules:\n  edgeHub:\n    websocket:\n      enable: false\n');
  assert.equal(neither.line, 4);
  assert.match(neither.message, /websocket\.enable=false and quic\.enable=false/);
  // a disabled edgeHub is not checked, and quic alone is fine
  parse('modules:\n  edgeHub:\n    enable: false\n    websocket:\n      enable: false\n');
  parse('modules:\n  edgeHub:\n    websocket:\n      enable: false\n    quic:\n      enable: true\n');
});

test('the cross-field check still runs when the file also has unknown keys', () => {
  const p = onlyProblem('modules:\n  edgeHub:\n    typo: 1\n    quic:\n      enable: true\n');
  assert.match(p.message, /exactly one of/);
});

test('hostnameOverride must be a valid node name', () => {
  const upper = onlyProblem('modules:\n  edged:\n    hostnameOverride: Edge_Node\n');
  assert.equal(upper.path, 'modules.edged.hostnameOverride');
  assert.equal(upper.line, 3);
  assert.match(upper.message, /RFC 1123.*got "Edge_Node"/);
  const long = onlyProblem(`modules:\n  edged:\n    hostnameOverride: ${'a'.repeat(254)}\n`);
  assert.equal(long.line, 3);
  parse(`modules:\n  edged:\n    hostnameOverride: ${'a'.repeat(63)}.example.com\n`);
});

test('imageGC low above high is caught', () => {
  const p = onlyProblem('modules:\n  edged:\n    tailoredKubeletConfig:\n      imageGCHighThresholdPercent: 50\n      imageGCLowThresholdPercent: 60\n');
  assert.deepEqual(p, {
    path: 'modules.edged.tailoredKubeletConfig.imageGCLowThresholdPercent',
    line: 5,
    message: 'must not exceed imageGCHighThresholdPercent (50), got 60',
  });
});

test('every problem in a file is reported at once', () => {
  const ps = problemsOf('modules:\n  edgeHub:\n    heartbeat: 0\n    messageQPS: -1\n  eventBus:\n    mqttQOS: 5\n');
  assert.deepEqual(
    ps.map((p) => [p.path, p.line]),
    [
      ['modules.edgeHub.heartbeat', 3],
      ['modules.edgeHub.messageQPS', 4],
      ['modules.eventBus.mqttQOS', 6],
    ],
  );
});

test('YAML syntax errors carry the line', () => {
  const dup = onlyProblem('modules:\n  edgeHub:\n    heartbeat: 1\n    heartbeat: 2\n');
  assert.equal(dup.line, 4);
  assert.match(dup.message, /YAML syntax error: Map keys must be unique/);
  const indent = onlyProblem('modules:\n  edgeHub:\n    heartbeat: 1\n   token: x\n');
  assert.equal(indent.line, 4);
  assert.match(indent.message, /^YAML syntax error/);
  const flow = problemsOf('a: 1\nb: [1, 2\nc: 3\n');
  assert.ok(flow.every((p) => p.line !== undefined && p.message.startsWith('YAML syntax error')));
});

test('empty file and comment-only file are problems', () => {
  assert.match(onlyProblem('').message, /empty/);
  assert.match(onlyProblem('   \n\n').message, /empty/);
  assert.match(onlyProblem('# just a comment\n').message, /no settings/);
  assert.match(onlyProblem('- a\n- b\n').message, /top level must be a mapping/);
});

test('a real edgecore.yaml as keadm join writes it (v1.16+ layout) loads, each key it sets without effect named', () => {
  const text = `apiVersion: edgecore.config.kubeedge.io/v1alpha2
database:
  aliasName: default
  dataSource: /var/lib/kubeedge/edgecore.db
  driverName: sqlite3
kind: EdgeCore
modules:
  dbTest:
    enable: false
  deviceTwin:
    dmiSockPath: /etc/kubeedge/dmi.sock
    enable: true
  edgeHub:
    enable: true
    heartbeat: 15
    httpServer: https://192.168.1.10:10002
    messageBurst: 60
    messageQPS: 30
    projectID: e632aba927ea4ac2b575ec1603d56f10
    quic:
      enable: false
      handshakeTimeout: 30
      readDeadline: 15
      server: 192.168.1.10:10001
      writeDeadline: 15
    rotateCertificates: true
    tlsCaFile: /etc/kubeedge/ca/rootCA.crt
    tlsCertFile: /etc/kubeedge/certs/server.crt
    tlsPrivateKeyFile: /etc/kubeedge/certs/server.key
    token: 1f2e3d.eyJhbGciOiJIUzI1NiJ9
    websocket:
      enable: true
      handshakeTimeout: 30
      readDeadline: 15
      server: 192.168.1.10:10000
      writeDeadline: 15
  edgeStream:
    enable: false
    handshakeTimeout: 30
    readDeadline: 15
    server: 192.168.1.10:10004
    tlsTunnelCAFile: /etc/kubeedge/ca/rootCA.crt
    tlsTunnelCertFile: /etc/kubeedge/certs/server.crt
    tlsTunnelPrivateKeyFile: /etc/kubeedge/certs/server.key
    writeDeadline: 15
  edged:
    enable: true
    hostnameOverride: edge-node-1
    nodeLabels: {}
    podSandboxImage: kubeedge/pause:3.6
    registerNodeNamespace: default
    registerSchedulable: true
    tailoredKubeletConfig:
      address: 127.0.0.1
      cgroupDriver: cgroupfs
      clusterDNS:
      - 169.254.96.16
      clusterDomain: cluster.local
      containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
      contentType: application/json
      enableDebuggingHandlers: true
      evictionHard:
        imagefs.available: 15%
        memory.available: 100Mi
        nodefs.available: 10%
        nodefs.inodesFree: 5%
      evictionPressureTransitionPeriod: 5m0s
      imageGCHighThresholdPercent: 80
      imageGCLowThresholdPercent: 40
      imageServiceEndpoint: unix:///run/containerd/containerd.sock
      maxPods: 110
      nodeLeaseDurationSeconds: 40
      nodeStatusReportFrequency: 1m0s
      nodeStatusUpdateFrequency: 10s
      readOnlyPort: 10350
      registerNode: true
      resolvConf: /etc/resolv.conf
      rotateCertificates: false
      serializeImagePulls: true
      staticPodPath: /etc/kubeedge/manifests
      syncFrequency: 1m0s
  eventBus:
    enable: true
    eventBusTLS:
      enable: false
      tlsMqttCAFile: /etc/kubeedge/ca/rootCA.crt
      tlsMqttCertFile: /etc/kubeedge/certs/server.crt
      tlsMqttPrivateKeyFile: /etc/kubeedge/certs/server.key
    mqttMode: 2
    mqttPassword: ""
    mqttPubClientID: ""
    mqttQOS: 0
    mqttRetain: false
    mqttServerExternal: tcp://127.0.0.1:1883
    mqttServerInternal: tcp://127.0.0.1:1884
    mqttSessionQueueSize: 100
    mqttSubClientID: ""
    mqttUsername: ""
  metaManager:
    contextSendGroup: hub
    contextSendModule: websocket
    enable: true
    metaServer:
      enable: false
      server: 127.0.0.1:10550
    remoteQueryTimeout: 60
  serviceBus:
    enable: false
    port: 9060
    server: 127.0.0.1
    timeout: 60
  taskManager:
    enable: false
`;
  const { config, warnings } = parse(text);
  assert.deepEqual(warnings, [
    'modules.edged.tailoredKubeletConfig.rotateCertificates (line 78): unknown key, ignored',
    "25 keys of this file have no effect in kubeedge-ts and hold KubeEdge v1.15.4's default (docs/config.md lists them and why)",
  ]);
  assert.equal(config.modules.edgeHub.websocket.server, '192.168.1.10:10000');
  assert.equal(config.modules.edgeHub.token, '1f2e3d.eyJhbGciOiJIUzI1NiJ9');
  assert.deepEqual(config.modules.edged.tailoredKubeletConfig.clusterDNS, ['169.254.96.16']);
  assert.equal(parseDuration(config.modules.edged.tailoredKubeletConfig.nodeStatusReportFrequency), 60_000);
});

test('a scalar where a section belongs says a mapping is expected', () => {
  assert.deepEqual(onlyProblem('modules:\n  edgeHub: 5\n'), { path: 'modules.edgeHub', line: 2, message: 'expected a mapping of keys, got 5' });
});
