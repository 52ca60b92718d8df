import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collectHostInfo, goArch, osImage } from './host-info.ts';
import { k8sMicroTime, k8sTime, nodeStatusPatch } from './node-object.ts';

describe('host info and node objects', () => {
  test('times have the Kubernetes Time and MicroTime forms', () => {
    assert.equal(k8sTime(Date.UTC(2026, 10, 29, 23, 8, 27, 999)), '2026-11-29T23:08:27Z');
    assert.equal(k8sMicroTime(Date.UTC(2026, 10, 29, 23, 8, 37) * 1000 + 762430), '2026-11-29T23:08:37.762430Z');
    assert.equal(k8sMicroTime(Date.UTC(2026, 10, 29, 23, 8, 37) * 1000 + 5), '2026-11-29T23:08:37.000005Z');
  });

  test('Go architecture and os-release names', () => {
    assert.equal(goArch('x64'), 'amd64');
    assert.equal(goArch('arm64'), 'arm64');
    assert.equal(goArch('arm'), 'arm');
    assert.equal(osImage('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian'), 'Debian GNU/Linux 12 (bookworm)');
  });

  test('collectHostInfo reads this host', () => {
    const h = collectHostInfo({ nodeName: 'n', maxPods: 110, containerRuntimeVersion: 'docker://20.10.24', kubeletVersion: 'v1', rootDirectory: '/' });
    assert.match(h.capacity['memory'] ?? '', /^\d+Ki$/);
    assert.ok(Number(h.allocatable['memory']?.slice(0, -2)) < Number(h.capacity['memory']?.slice(0, -2)), 'eviction reserve kept back');
    assert.match(h.allocatable['ephemeral-storage'] ?? '', /^\d+$/);
    assert.equal(h.addresses[0]?.type, 'InternalIP');
    assert.match(h.addresses[0]?.address ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(h.nodeInfo.bootID, /^[0-9a-f-]{36}$/);
    assert.equal(h.nodeInfo.kubeProxyVersion, 'v0.0.0-master+$Format:%H$');
    const noDisk = collectHostInfo({ nodeName: 'n', maxPods: 1, containerRuntimeVersion: '', kubeletVersion: '', rootDirectory: '/nonexistent/kubelet' });
    assert.equal(noDisk.capacity['ephemeral-storage'], undefined);
  });

  test('nodepatch body keeps the kubelet key order', () => {
    const h = collectHostInfo({ nodeName: 'n', nodeIP: '10.0.0.9', maxPods: 110, containerRuntimeVersion: 'x', kubeletVersion: 'v' });
    const p = JSON.parse(nodeStatusPatch(h, '2026-11-29T23:12:21Z', '2026-11-29T23:08:27Z'));
    assert.deepEqual(Object.keys(p.status), [
      '$setElementOrder/conditions',
      'addresses',
      'allocatable',
      'capacity',
      'conditions',
      'daemonEndpoints',
      'nodeInfo',
    ]);
    assert.deepEqual(Object.keys(p.status.conditions[0]), ['lastHeartbeatTime', 'lastTransitionTime', 'message', 'reason', 'status', 'type']);
    assert.equal(p.status.conditions[3].lastTransitionTime, '2026-11-29T23:08:27Z');
  });
});
