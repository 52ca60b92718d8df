// keadm up --edgemesh's per-node pod network with the real dockerd: a bridge network named for the node whose
// interface is up with an address (the anchor container gives it a carrier, so EdgeMesh can bind it), made once
// however often it is asked for, and removed by keadm reset's clean-up with the instance's containers.
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, test } from 'node:test';
import { DockerClient } from '../../../src/containers/index.ts';
import { MESH_NETWORK_ROLE, ensureNodeNetwork, meshBridgeName, removeMeshNetworks } from '../../../src/keadm/edgemesh.ts';
import { INSTANCE_LABEL, ROLE_LABEL } from '../../../src/keadm/common.ts';
import { DOCKER_ENDPOINT, PAUSE_IMAGE, dockerSkip, ensureTestImages } from '../../helpers/docker.ts';

const skip = await dockerSkip();
const instance = `meshnet-${process.pid}`;
const docker = new DockerClient({ endpoint: DOCKER_ENDPOINT });

async function removeInstance(): Promise<void> {
  for (const c of await docker.listContainers({ all: true, labels: [`${ROLE_LABEL}=${MESH_NETWORK_ROLE}`, `${INSTANCE_LABEL}=${instance}`] }))
    await docker.removeContainer(c.Id, { force: true });
}

after(async () => {
  if (skip !== false) return;
  await removeInstance();
  await removeMeshNetworks(docker, instance, () => {});
});

test('each edge node gets its own bridge network, up with an address, and reset removes it', { skip, timeout: 60_000 }, async () => {
  await ensureTestImages();
  const lines: string[] = [];
  const a = await ensureNodeNetwork(docker, { instance, node: 'edge-node-1', index: 1, anchorImage: PAUSE_IMAGE, log: (l) => lines.push(l) });
  const again = await ensureNodeNetwork(docker, { instance, node: 'edge-node-1', index: 1, anchorImage: PAUSE_IMAGE, log: (l) => lines.push(l) });
  const b = await ensureNodeNetwork(docker, { instance, node: 'edge-node-2', index: 2, anchorImage: PAUSE_IMAGE, log: (l) => lines.push(l) });
  assert.deepEqual(again, a, 'asked twice, made once');
  assert.equal(lines.filter((l) => l.startsWith('created Docker network')).length, 2);
  assert.equal(a.bridge, meshBridgeName(instance, 1));
  assert.notEqual(a.bridge, b.bridge);
  const ifs = os.networkInterfaces();
  for (const br of [a.bridge, b.bridge])
    assert.ok(
      ifs[br]?.some((x) => x.family === 'IPv4'),
      `${br} is up with an IPv4 address (what EdgeMesh binds)`,
    );

  await removeInstance();
  const removed = await removeMeshNetworks(docker, instance, () => {});
  assert.deepEqual(removed.sort(), [a.network, b.network].sort());
  assert.equal((await docker.listNetworks([`${INSTANCE_LABEL}=${instance}`])).length, 0);
});
