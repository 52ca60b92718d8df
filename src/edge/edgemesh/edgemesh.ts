import { networkInterfaces } from 'node:os';
import { KubeEdgeError } from '../../core/errors.ts';
import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import { contentAsObject, newMessage, Operation, parseResource, ResourceType, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { EdgeGroups, EdgeModules } from '../common/modules.ts';
import { MeshDnsServer } from './dns/server.ts';
import { readResolvConf } from './dns/upstream.ts';
import { MeshIpam } from './ipam.ts';
import { type MeshProxySettings, proxyComponent } from './proxy/wire.ts';
import { localPodState } from './local-pods.ts';
import { MESH_RESOURCE_TYPES, MeshStore, type MeshResourceType } from './store.ts';

export type EdgeMeshOptions = {
  enable: boolean;
  nodeName: string;
  /** `modules.edged.tailoredKubeletConfig.clusterDomain`. */
  clusterDomain: string;
  lbStrategy: 'RoundRobin' | 'Random';
  listenInterface: string;
  subNet: string;
  listenPort: number;
  /** DNS port on the listenInterface address (53; 0 = any free port, for tests). */
  dnsPort: number;
  /** Where the upstream resolvers are read from (the host's /etc/resolv.conf). */
  upstreamResolvConf: string;
  /** Seconds to wait for MetaManager's answer when loading the stored objects. */
  loadTimeoutSec?: number;
  /** The proxy's settings beyond KubeEdge's keys (certificates, tunnel, peers); see proxy/wire.ts. Absent: the
   *  Service listeners run but no iptables rules, peer port or relay (an EdgeMesh for its DNS alone). */
  proxy?: MeshProxySettings;
};

/** A part of EdgeMesh with its own life (DNS here, the proxy beside it). */
export type MeshComponent = { start(): Promise<void>; stop(): Promise<void> };

/** What a component is given: the store it reads, the service addresses, the options and the address it binds. */
export type MeshComponentContext = { store: MeshStore; ipam: MeshIpam; options: EdgeMeshOptions; address: string; bus: Bus; log: Logger };

/**
 * EdgeMesh inside edgecore, as KubeEdge v1.1-v1.7 had it: Services and their endpoints from MetaManager (what the
 * cloud sent, persisted there, so it all works offline and across restarts) in a {@link MeshStore}; a DNS server on
 * the listenInterface address; the proxy that carries the traffic. Edged's reports on this node's pods, which
 * MetaManager copies here, keep the local endpoints' addresses current while the cloud is away.
 */
export class EdgeMesh implements Module {
  readonly name = EdgeModules.edgeMesh;
  readonly group = EdgeGroups.edgeMesh;
  readonly enabled: boolean;
  readonly #o: EdgeMeshOptions;
  readonly #ipam: MeshIpam;
  readonly #store: MeshStore;
  readonly #components: MeshComponent[] = [];
  #dns: MeshDnsServer | undefined;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #address = '';
  readonly #stats = { applied: 0, rejected: 0 };

  constructor(o: EdgeMeshOptions) {
    this.#o = o;
    this.enabled = o.enable;
    this.#ipam = new MeshIpam(o.subNet);
    this.#store = new MeshStore({ ipam: this.#ipam, nodeName: o.nodeName });
  }

  get store(): MeshStore {
    return this.#store;
  }

  /** The listenInterface address the DNS server (and the proxy) bind. */
  get address(): string {
    return this.#address;
  }

  /** The DNS server's port (the configured one, or the one the system picked for 0). */
  get dnsPort(): number {
    return this.#dns?.port ?? 0;
  }

  get stats(): { applied: number; rejected: number } {
    return { ...this.#stats };
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    this.#address = interfaceAddress(this.#o.listenInterface);
    ctx.bus.register(this.name, this.group, (m) => this.#onMessage(m));
    await this.#load(ctx.bus, ctx.log);
    const dns = new MeshDnsServer({
      address: this.#address,
      port: this.#o.dnsPort,
      clusterDomain: this.#o.clusterDomain,
      directory: this.#store,
      upstreams: () => readResolvConf(this.#o.upstreamResolvConf, new Set([this.#address])),
      log: ctx.log,
    });
    await dns.start();
    this.#dns = dns;
    const cctx: MeshComponentContext = { store: this.#store, ipam: this.#ipam, options: this.#o, address: this.#address, bus: ctx.bus, log: ctx.log };
    // proxy component
    this.#components.push(proxyComponent(cctx));
    try {
      for (const c of this.#components) await c.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    for (const c of [...this.#components].reverse()) {
      await c.stop().catch((err: unknown) => this.#log?.warn({ err }, 'edgemesh component failed to stop'));
    }
    await this.#dns?.stop();
    this.#dns = undefined;
  }

  /** The Services, slices, Endpoints and this node's pods MetaManager holds: what the edge knew when it stopped. */
  async #load(bus: Bus, log: Logger): Promise<void> {
    const timeoutMs = (this.#o.loadTimeoutSec ?? 10) * 1000;
    const list = async (type: string): Promise<unknown[]> => {
      const m = newMessage({ source: this.name, group: EdgeGroups.meta, operation: Operation.query, resource: `/${type}` });
      try {
        const reply = await bus.request(EdgeModules.metaManager, m, timeoutMs);
        return Array.isArray(reply.content) ? reply.content : [];
      } catch (err) {
        log.warn({ err, type }, 'cannot load stored objects; starting with what the cloud sends');
        return [];
      }
    };
    let n = 0;
    for (const type of ['service', 'endpointslice', 'endpoints'] as const) {
      for (const obj of await list(type)) if (this.#store.apply(type, Operation.insert, obj)) n++;
    }
    for (const pod of await list(ResourceType.pod)) {
      const s = localPodState(pod, this.#o.nodeName);
      if (s !== undefined) this.#store.setLocalPod(s.namespace, s.name, s.state);
    }
    log.info({ objects: n, services: this.#store.services().length }, 'edgemesh loaded the stored services');
  }

  #onMessage(m: Message): void {
    const { namespace, type, name } = parseResource(m.route.resource ?? '');
    const op = m.route.operation ?? '';
    if (MESH_RESOURCE_TYPES.has(type)) {
      const obj = op === Operation.delete ? (contentAsObject(m) ?? { metadata: { namespace, name } }) : contentAsObject(m);
      const target = typeof obj === 'object' && obj !== null ? obj : { metadata: { namespace, name } };
      if (this.#store.apply(type as MeshResourceType, op, withName(target, namespace, name))) this.#stats.applied++;
      else {
        this.#stats.rejected++;
        this.#log?.warn({ op, resource: m.route.resource }, 'edgemesh: object rejected (no metadata or service label)');
      }
      return;
    }
    if (type === ResourceType.podPatch && op === Operation.patch) {
      // edged's patch is `{metadata: {uid}, status}`; the resource names the pod.
      const patch = contentAsObject(m);
      const status = typeof patch === 'object' && patch !== null ? (patch as { status?: unknown }).status : undefined;
      const s = localPodState({ metadata: { namespace, name }, status }, undefined);
      if (s !== undefined) {
        this.#log?.debug({ pod: `${namespace}/${name}`, ...s.state }, 'edgemesh: local pod reported');
        this.#store.setLocalPod(namespace, name, s.state);
      }
      return;
    }
    if (type === ResourceType.pod && op === Operation.delete && m.route.source === EdgeModules.edged) {
      this.#store.setLocalPod(namespace, name, undefined);
    }
  }
}

/** A delete may carry only part of the object; the resource string names it. */
function withName(obj: object, namespace: string, name: string): object {
  const md = (obj as { metadata?: Record<string, unknown> }).metadata ?? {};
  return { ...obj, metadata: { ...md, namespace: md['namespace'] ?? (namespace === 'null' ? '' : namespace), name: md['name'] ?? name } };
}

/** The first IPv4 address of `name`; throws a one-line error naming the interface and how to list them. */
export function interfaceAddress(name: string): string {
  const ifs = networkInterfaces();
  const addrs = ifs[name];
  const v4 = addrs?.find((a) => a.family === 'IPv4');
  if (v4 === undefined) {
    const why = addrs === undefined ? 'no such interface' : 'it has no IPv4 address';
    throw new KubeEdgeError(
      'KE_EDGEMESH_INTERFACE',
      `modules.edgeMesh.listenInterface ${name}: ${why}; list the interfaces with \`ip -br addr\` and set one that has an IPv4 address`,
      { listenInterface: name },
    );
  }
  return v4.address;
}
