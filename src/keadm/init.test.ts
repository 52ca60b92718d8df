import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCloudCoreConfig } from '../config/load.ts';
import { cloudCoreYaml } from './init.ts';

const base = { advertiseAddress: '192.0.2.10', websocketPort: 10000, httpsPort: 10002, apiserverPort: 6443 };

test('keadm init in the embedded mode turns CloudStream on (kubectl logs/exec to edges); a real cluster keeps it off', () => {
  const embedded = parseCloudCoreConfig(cloudCoreYaml({ ...base, realCluster: false, tunnelPort: 20004 }), 'cloudcore.yaml');
  assert.equal(embedded.config.modules.cloudStream.enable, true);
  assert.equal(embedded.config.modules.cloudStream.tunnelPort, 20004);
  assert.deepEqual(
    embedded.warnings.filter((w) => !/hold KubeEdge v1\.15\.4's default/.test(w)),
    [],
  );
  const real = parseCloudCoreConfig(cloudCoreYaml({ ...base, realCluster: true }), 'cloudcore.yaml');
  assert.equal(real.config.modules.cloudStream.enable, false, "KubeEdge's default for a real cluster");
});
