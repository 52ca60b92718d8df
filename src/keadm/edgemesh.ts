/**
 * What `keadm join --edgemesh` and `keadm up --edgemesh` add for EdgeMesh. One edge per host uses docker0 (the
 * engine's default bridge) and port 40001, as KubeEdge did. Several edges on one host (keadm up) would collide
 * there, so each node gets a Docker bridge network of its own: its pods join it (`modules.edged.dockerNetwork`),
 * its bridge interface is the node's `listenInterface` (DNS and listeners bind its address, the PREROUTING jump
 * matches it), and its peer port is 40001 + i - 1. A bridge without any container attached has no carrier and
 * Node does not list its address, so a small anchor container (the pod sandbox image) stays attached.
 */
import { createHash } from 'node:crypto';
import type { DockerClient } from '../containers/index.ts';
import { type IptablesRunner, commandRunner } from '../edge/edgemesh/iptables/run.ts';
import { CHAIN_PREFIX, chainName, ourChains, removeChain } from '../edge/edgemesh/iptables/chain.ts';
import { INSTANCE_LABEL, NODE_LABEL, ROLE_LABEL, type Out } from './common.ts';

export const DEFAULT_MESH_PORT = 40001;
/** CloudStream's tunnel port (KubeEdge's modules.cloudStream.tunnelPort). */
export const DEFAULT_TUNNEL_PORT = 10004;
export const DEFAULT_MESH_INTERFACE = 'docker0';
export const MESH_NETWORK_ROLE = 'edgemesh-network';

export type EdgeMeshJoin = {
  listenInterface: string;
  listenPort: number;
  /** Docker network the node's pods join (keadm up: the node's own). */
  dockerNetwork?: string;
  /** CloudStream's tunnel address for the relay, `<cloud host>:10004`. */
  tunnelServer: string;
};

/** `modules` entries for edgecore.yaml. */
export function edgeMeshModules(m: EdgeMeshJoin): { edgeMesh: Record<string, unknown>; edgeStream: Record<string, unknown>; dockerNetwork?: string } {
  return {
    edgeMesh: { enable: true, listenInterface: m.listenInterface, listenPort: m.listenPort },
    edgeStream: { server: m.tunnelServer },
    ...(m.dockerNetwork !== undefined ? { dockerNetwork: m.dockerNetwork } : {}),
  };
}

/** Linux interface names are at most 15 bytes: `kem<i>-<6 hex of the instance>`. */
export function meshBridgeName(instance: string, i: number): string {
  return `kem${i}-${createHash('sha256').update(instance).digest('hex').slice(0, 6)}`;
}

export const meshNetworkName = (instance: string, node: string) => `${instance === 'default' ? '' : `${instance}-`}kubeedge-mesh-${node}`;

/** The node's bridge network and its anchor container; returns what join needs. Idempotent. */
export async function ensureNodeNetwork(
  c: DockerClient,
  o: { instance: string; node: string; index: number; anchorImage: string; log: Out },
): Promise<{ network: string; bridge: string }> {
  const network = meshNetworkName(o.instance, o.node);
  const bridge = meshBridgeName(o.instance, o.index);
  const labels = { [ROLE_LABEL]: MESH_NETWORK_ROLE, [INSTANCE_LABEL]: o.instance, [NODE_LABEL]: o.node };
  const have = await c.listNetworks([`${INSTANCE_LABEL}=${o.instance}`, `${NODE_LABEL}=${o.node}`]);
  if (!have.some((n) => n.Name === network)) {
    await c.createNetwork(network, { labels, bridgeName: bridge });
    o.log(`created Docker network ${network} (bridge ${bridge}) for ${o.node}'s pods and EdgeMesh`);
  }
  const anchor = `${network}-anchor`;
  const existing = await c.listContainers({
    all: true,
    labels: [`${ROLE_LABEL}=${MESH_NETWORK_ROLE}`, `${INSTANCE_LABEL}=${o.instance}`, `${NODE_LABEL}=${o.node}`],
  });
  if (existing.length === 0) {
    const { Id } = await c.createContainer(anchor, {
      Image: o.anchorImage,
      Labels: labels,
      HostConfig: { NetworkMode: network, RestartPolicy: { Name: 'unless-stopped' } },
    });
    await c.startContainer(Id);
  }
  return { network, bridge };
}

/** keadm reset: every Docker network of the instance's EdgeMesh (after their containers are gone). */
export async function removeMeshNetworks(c: DockerClient, instance: string, log: Out): Promise<string[]> {
  const removed: string[] = [];
  for (const n of await c.listNetworks([`${ROLE_LABEL}=${MESH_NETWORK_ROLE}`, `${INSTANCE_LABEL}=${instance}`])) {
    await c.removeNetwork(n.Id);
    removed.push(n.Name);
    log(`removed Docker network ${n.Name}`);
  }
  return removed;
}

/**
 * keadm reset: the nat chains of this instance's edge nodes (KE-MESH-<node>), with the jumps into them. Only those:
 * another instance's edges (or another run's, on a shared host) keep theirs.
 */
export function removeMeshChains(log: Out, nodes: Iterable<string>, run: IptablesRunner = commandRunner()): string[] {
  const removed: string[] = [];
  const mine = new Set([...nodes].map((n) => chainName(n)));
  for (const chain of ourChains(run, [CHAIN_PREFIX]).filter((c) => mine.has(c))) {
    const problems = removeChain(run, chain);
    for (const p of problems) log(`could not fully remove iptables chain nat/${chain}: ${p}`);
    if (problems.length === 0) {
      removed.push(`nat/${chain}`);
      log(`removed iptables chain nat/${chain}`);
    }
  }
  return removed;
}
