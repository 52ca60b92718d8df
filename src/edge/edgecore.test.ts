import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEdgeCoreConfig } from '../config/load.ts';
import { bootstrapTokenFile } from './edgecore.ts';

const host = { ip: '192.0.2.20', hostname: 'edge-a' };

test("the bootstrap token file is KubeEdge's path by default and follows the config root elsewhere", () => {
  const def = parseEdgeCoreConfig('modules: {}\n', 'edgecore.yaml', { host }).config;
  assert.equal(bootstrapTokenFile(def), '/etc/kubeedge/bootstrap-edgecore.conf');
  const moved = parseEdgeCoreConfig('modules:\n  edgeHub:\n    tlsCaFile: /srv/node-2/etc/ca/rootCA.crt\n', 'edgecore.yaml', { host }).config;
  assert.equal(bootstrapTokenFile(moved), '/srv/node-2/etc/bootstrap-edgecore.conf');
});
