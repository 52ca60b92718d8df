import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiServerEnabled, CONTROLLER_NAMES, embeddedControlPlaneEnabled, selectedControllers } from './cloudcore.ts';
import { ConfigError } from './errors.ts';
import { parseCloudCoreConfig } from './load.ts';
import { defaultCloudCoreConfig } from './print.ts';

const host = { ip: '192.0.2.10', hostname: 'cloud-1' };
const parse = (text: string) => parseCloudCoreConfig(text, 'cloudcore.yaml', { host });

function problemsOf(text: string) {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test('a config that sets almost nothing gets KubeEdge v1.15.4 defaults at every level', () => {
  const { config, warnings } = parse('apiVersion: cloudcore.config.kubeedge.io/v1alpha1\nkind: CloudCore\nmodules:\n  cloudHub:\n    nodeLimit: 7\n');
  assert.deepEqual(warnings, []);
  const hub = config.modules.cloudHub;
  assert.equal(hub.nodeLimit, 7);
  assert.equal(hub.keepaliveInterval, 30);
  assert.equal(hub.writeTimeout, 30);
  assert.deepEqual(hub.advertiseAddress, ['192.0.2.10']);
  assert.deepEqual(hub.dnsNames, ['']);
  assert.equal(hub.edgeCertSigningDuration, 365);
  assert.equal(hub.tokenRefreshDuration, 12);
  assert.deepEqual(hub.quic, { enable: false, address: '0.0.0.0', port: 10001, maxIncomingStreams: 10000 });
  assert.deepEqual(hub.websocket, { enable: true, address: '0.0.0.0', port: 10000 });
  assert.deepEqual(hub.https, { enable: true, address: '0.0.0.0', port: 10002 });
  assert.deepEqual(hub.unixsocket, { enable: true, address: 'unix:///var/lib/kubeedge/kubeedge.sock' });
  assert.equal(hub.authorization, undefined, 'a v1.18+ key: no default, not printed');
  assert.equal(hub.tlsCAFile, '/etc/kubeedge/ca/rootCA.crt');
  assert.deepEqual(config.kubeAPIConfig, { master: '', kubeConfig: '', contentType: 'application/vnd.kubernetes.protobuf', qps: 2500, burst: 5000 });
  assert.deepEqual(config.commonConfig, { tunnelPort: 10350, monitorServer: { bindAddress: '127.0.0.1:9091' } });
  assert.equal(config.modules.edgeController.nodeUpdateFrequency, 10);
  assert.equal(config.modules.edgeController.nodeMonitorGracePeriod, 40);
  assert.equal(config.modules.edgeController.load['UpdateRuleStatusWorkers'], 4);
  assert.equal(config.modules.edgeController.load['queryNodeWorkers'], 500);
  assert.equal(config.modules.edgeController.buffer['createLease'], 1524);
  assert.equal(config.modules.cloudStream.streamPort, 10003);
  assert.equal(config.modules.cloudStream.tunnelPort, 10004);
  assert.deepEqual(config.modules.router, { enable: false, address: '0.0.0.0', port: 9443, restTimeout: 60 });
  assert.deepEqual(config.modules.iptablesManager, { enable: true, mode: 'internal' }, "KubeEdge's default");
  assert.equal(config.modules.deviceController.enable, true);
  assert.equal(config.modules.deviceController.statusUpdateIntervalMs, 1000);
  assert.equal(config.modules.nodeUpgradeJobController.enable, false);
  assert.equal(config.modules.syncController.enable, true);
  assert.equal(config.modules.dynamicController.enable, false);
  assert.deepEqual(config.modules.apiServer, {
    address: '127.0.0.1',
    port: 6443,
    dataDir: '/var/lib/kubeedge/apiserver',
    adminKubeConfig: '/etc/kubeedge/admin.kubeconfig',
  });
  assert.equal(config.featureGates, undefined);
});

test('a partial buffer map keeps the other defaults', () => {
  const { config } = parse('modules:\n  edgeController:\n    buffer:\n      podEvent: 9\n');
  assert.equal(config.modules.edgeController.buffer['podEvent'], 9);
  assert.equal(config.modules.edgeController.buffer['updatePodStatus'], 1024);
});

test('apiServerEnabled: explicit wins, otherwise auto only without a cluster', () => {
  const d = defaultCloudCoreConfig(host);
  assert.equal(apiServerEnabled(d, {}), true);
  assert.equal(apiServerEnabled(d, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }), false);
  const withKube = parse('kubeAPIConfig:\n  kubeConfig: /root/.kube/config\n').config;
  assert.equal(apiServerEnabled(withKube, {}), false);
  const withMaster = parse('kubeAPIConfig:\n  master: https://10.0.0.1:6443\n').config;
  assert.equal(apiServerEnabled(withMaster, {}), false);
  const forced = parse('kubeAPIConfig:\n  kubeConfig: /root/.kube/config\nmodules:\n  apiServer:\n    enable: true\n').config;
  assert.equal(apiServerEnabled(forced, { KUBERNETES_SERVICE_HOST: 'x' }), true);
  const off = parse('modules:\n  apiServer:\n    enable: false\n').config;
  assert.equal(apiServerEnabled(off, {}), false);
});

test('a cloudcore.yaml as `cloudcore --minconfig` (KubeEdge v1.15) prints loads, naming what does not run here', () => {
  const text = `# With --minconfig , you can easily used this configurations as reference.
# It's useful to users who are new to KubeEdge, and you can modify/create your own configs accordingly.
# This configuration is suitable for beginners.
apiVersion: cloudcore.config.kubeedge.io/v1alpha2
kind: CloudCore
kubeAPIConfig:
  kubeConfig: /root/.kube/config
  master: ""
modules:
  cloudHub:
    advertiseAddress:
    - 192.168.1.10
    dnsNames:
    - ""
    https:
      address: 0.0.0.0
      enable: true
      port: 10002
    nodeLimit: 1000
    tlsCAFile: /etc/kubeedge/ca/rootCA.crt
    tlsCAKeyFile: /etc/kubeedge/ca/rootCA.key
    tlsCertFile: /etc/kubeedge/certs/server.crt
    tlsPrivateKeyFile: /etc/kubeedge/certs/server.key
    unixsocket:
      address: unix:///var/lib/kubeedge/kubeedge.sock
      enable: true
    websocket:
      address: 0.0.0.0
      enable: true
      port: 10000
  router:
    address: 0.0.0.0
    enable: false
    port: 9443
    restTimeout: 60
  iptablesManager:
    enable: true
    mode: internal
`;
  const { config, warnings } = parse(text);
  assert.deepEqual(warnings, ["1 key of this file has no effect in kubeedge-ts and holds KubeEdge v1.15.4's default (docs/config.md lists them and why)"]);
  assert.equal(config.apiVersion, 'cloudcore.config.kubeedge.io/v1alpha2');
  assert.deepEqual(config.modules.cloudHub.advertiseAddress, ['192.168.1.10']);
  assert.equal(config.modules.cloudHub.nodeLimit, 1000);
  assert.equal(config.kubeAPIConfig.kubeConfig, '/root/.kube/config');
  assert.equal(apiServerEnabled(config, {}), false);
});

test('keys from newer KubeEdge releases are warned about with their line, not fatal', () => {
  const text = 'modules:\n  cloudHub:\n    nodeLimit: 10\n    fancyNewKey: 1\n  fancyController:\n    enable: true\n';
  const { config, warnings } = parse(text);
  assert.equal(config.modules.cloudHub.nodeLimit, 10);
  assert.deepEqual(warnings, ['modules.cloudHub.fancyNewKey (line 4): unknown key, ignored', 'modules.fancyController (line 5): unknown key, ignored']);
});

test('cloudcore validation names path, line, found value and what is valid', () => {
  const text = [
    'modules:', //                 1
    '  cloudHub:', //              2
    '    nodeLimit: 0', //         3
    '    keepaliveInterval: -1', //4
    '    websocket:', //           5
    '      port: 70000', //        6
    '    advertiseAddress: [not-an-ip]', // 7
    '  iptablesManager:', //       8
    '    mode: hybrid', //         9
    'kubeAPIConfig:', //           10
    '  qps: "fast"', //            11
  ].join('\n');
  const problems = problemsOf(text);
  const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
  assert.deepEqual(byPath['modules.cloudHub.nodeLimit'], {
    path: 'modules.cloudHub.nodeLimit',
    line: 3,
    message: 'must be a positive integer number of nodes, got 0',
  });
  assert.equal(byPath['modules.cloudHub.keepaliveInterval']?.line, 4);
  assert.match(byPath['modules.cloudHub.keepaliveInterval']?.message ?? '', /positive integer number of seconds, got -1/);
  assert.deepEqual(byPath['modules.cloudHub.websocket.port'], {
    path: 'modules.cloudHub.websocket.port',
    line: 6,
    message: 'must be a port number 1-65535, got 70000',
  });
  assert.equal(byPath['modules.cloudHub.advertiseAddress[0]']?.line, 7);
  assert.match(byPath['modules.cloudHub.advertiseAddress[0]']?.message ?? '', /IP address, got "not-an-ip"/);
  assert.deepEqual(byPath['modules.iptablesManager.mode'], {
    path: 'modules.iptablesManager.mode',
    line: 9,
    message: 'must be one of internal, external, got "hybrid"',
  });
  assert.equal(byPath['kubeAPIConfig.qps']?.line, 11);
  assert.match(byPath['kubeAPIConfig.qps']?.message ?? '', /got "fast"/);
  assert.equal(problems.length, 6);
});

test('controllerManager: kube-controller-manager selection rules, unknown names refused, auto follows the API server', () => {
  assert.deepEqual(selectedControllers(['*']), [...CONTROLLER_NAMES]);
  assert.deepEqual(
    selectedControllers(['*', '-cronjob']),
    CONTROLLER_NAMES.filter((c) => c !== 'cronjob'),
  );
  assert.deepEqual(selectedControllers(['deployment', 'replicaset', '-replicaset']), ['deployment']);
  const d = parse('modules: {}\n').config;
  assert.equal(embeddedControlPlaneEnabled(d, 'controllerManager', {}), true);
  assert.equal(embeddedControlPlaneEnabled(d, 'scheduler', { KUBERNETES_SERVICE_HOST: 'x' }), false);
  const withKube = parse('kubeAPIConfig:\n  kubeConfig: /root/.kube/config\n').config;
  assert.equal(embeddedControlPlaneEnabled(withKube, 'controllerManager', {}), false);
  const problems = problemsOf('modules:\n  controllerManager:\n    controllers: [deploymnet]\n');
  assert.match(JSON.stringify(problems), /controllerManager\.controllers/);
});
