import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createCA } from '../../pki/x509.ts';
import { checkClockSkew, checkInterface, checkSamePathMounts, effectiveCaps, formatCheck, hasCap, hostPathOf, ownContainerId } from './index.ts';
import { checkSubnetRoutes } from './mesh.ts';

test('CapEff parsing: NET_ADMIN (12) and NET_RAW (13)', () => {
  const caps = effectiveCaps('Name:\tnode\nCapEff:\t00000000a80425fb\n');
  assert.ok(caps !== undefined);
  assert.equal(hasCap(caps, 12), false, 'docker default set lacks NET_ADMIN');
  assert.equal(hasCap(caps, 13), true, 'docker default set has NET_RAW');
  assert.equal(hasCap(effectiveCaps('CapEff:\t00000000a80425fb\n')! | (1n << 12n), 12), true);
});

test('own container id comes from the /etc/hostname bind mount, on cgroup v1 or v2', () => {
  const id = 'f'.repeat(64);
  const mountinfo = `612 600 254:1 /var/lib/docker/containers/${id}/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n`;
  assert.equal(ownContainerId(mountinfo), id);
  assert.equal(ownContainerId('22 1 254:1 / / rw - ext4 /dev/vda rw\n'), undefined);
});

test('hostPathOf: the deepest bind mount decides; named volumes have no host path', () => {
  const mounts = [
    { Source: '/srv/kubelet', Destination: '/var/lib/kubelet', Type: 'bind' },
    { Source: '/var/lib/kubeedge', Destination: '/var/lib/kubeedge', Type: 'bind' },
    { Source: '/var/lib/docker/volumes/x/_data', Destination: '/data', Type: 'volume' },
  ];
  assert.equal(hostPathOf('/var/lib/kubelet/pods', mounts), '/srv/kubelet/pods');
  assert.equal(hostPathOf('/var/lib/kubeedge', mounts), '/var/lib/kubeedge');
  assert.equal(hostPathOf('/data/x', mounts), undefined);
  assert.equal(hostPathOf('/etc/kubeedge', mounts), undefined);
});

test('same-path mounts outside a container are fine without asking the engine', async () => {
  const r = await checkSamePathMounts({ kind: 'docker', endpoint: 'unix:///nonexistent.sock' }, ['/var/lib/kubelet'], undefined);
  assert.equal(r[0]?.status, 'ok');
});

test('same-path mounts inside a container on a CRI engine: said to be unverifiable (a warning with the fix), not failed', async () => {
  const r = await checkSamePathMounts({ kind: 'cri', endpoint: 'unix:///run/containerd/containerd.sock' }, ['/var/lib/kubelet'], 'f'.repeat(64));
  assert.equal(r.length, 1);
  assert.equal(r[0]?.status, 'warn');
  assert.match(formatCheck(r[0]!), /speaks CRI, which cannot show this container's mounts; \/var\/lib\/kubelet are not verified .*\(fix: bind-mount/);
});

test('a missing interface fails with the interfaces that do exist in the fix', () => {
  const r = checkInterface('modules.edgeMesh.listenInterface', 'nosuch0');
  assert.equal(r.status, 'fail');
  assert.match(formatCheck(r), /^FAIL network interface: modules\.edgeMesh\.listenInterface names nosuch0, .*\(fix: .*lo/);
  assert.equal(checkInterface('x', 'lo').status, 'ok');
});

test('clock skew: a clock before the CA notBefore fails; within validity is ok', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-clock-'));
  try {
    const ca = await createCA();
    const file = path.join(dir, 'rootCA.crt');
    writeFileSync(file, Buffer.from(ca.certDer));
    // DER is accepted by X509Certificate as well as PEM.
    assert.equal(checkClockSkew(file).status, 'ok');
    const r = checkClockSkew(file, new Date('2001-01-01T00:00:00Z'));
    assert.equal(r.status, 'fail');
    assert.match(formatCheck(r), /before the cloud CA's notBefore .*\(fix: synchronise the clock/);
    assert.equal(checkClockSkew(path.join(dir, 'none.crt')).status, 'ok');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('edgemesh subNet: overlapping a host route fails naming the route; the default route does not count', () => {
  const routes = [
    'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  ].join('\n');
  assert.equal(checkSubnetRoutes('9.251.0.0/16', routes).status, 'ok');
  const r = checkSubnetRoutes('172.17.128.0/24', routes);
  assert.equal(r.status, 'fail');
  assert.match(formatCheck(r), /^FAIL edgemesh subnet: modules\.edgeMesh\.subNet 172\.17\.128\.0\/24 overlaps the route 172\.17\.0\.0\/16 on docker0 \(fix: /);
});
