/**
 * EdgeMesh's proxy: keeps one listener per Service port on the listen IP in step with the store, and says which
 * DNAT rules lead to them (`rules()`, 'rules' event) for the iptables component. Headless Services get none
 * (DNS answers their pods' addresses). Listeners stay for the Service's life, with or without endpoints, so a
 * Service scaled to zero still refuses quickly instead of timing out.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../../../core/log.ts';
import { Balancer, DEFAULT_AFFINITY_SECONDS } from './balancer.ts';
import { backendsFor, portKey } from './backends.ts';
import type { Dialer } from './dial.ts';
import { TcpServicePort } from './tcp.ts';
import type { LbStrategy, ProxyPort, ProxyService, ProxyStore } from './types.ts';
import { UdpServicePort } from './udp.ts';

export type DnatRule = { service: string; dest: string; port: number; protocol: 'tcp' | 'udp'; toIP: string; toPort: number };

export type MeshProxyOptions = {
  store: ProxyStore;
  listenIP: string;
  lbStrategy: LbStrategy;
  nodeName: string;
  dial: Dialer;
  log?: Logger;
};

type Entry = { svc: string; port: ProxyPort; listener: TcpServicePort | UdpServicePort; addrs: string[] };

export class MeshProxy extends EventEmitter {
  #o: MeshProxyOptions;
  #entries = new Map<string, Entry>();
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;
  #onChange = (ns: string, name: string) => void this.#enqueue(() => this.#sync(ns, name));

  constructor(o: MeshProxyOptions) {
    super();
    this.#o = o;
  }

  async start(): Promise<void> {
    this.#o.store.on('change', this.#onChange);
    await this.#enqueue(async () => {
      for (const s of this.#o.store.services()) await this.#sync(s.namespace, s.name);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.store.off('change', this.#onChange);
    await this.#chain;
    await Promise.all([...this.#entries.values()].map((e) => e.listener.close()));
    this.#entries.clear();
  }

  /** Resolves once every store change seen so far is reflected in the listeners. */
  settled(): Promise<void> {
    return this.#chain;
  }

  /** The DNAT rules that lead to the current listeners. */
  rules(): DnatRule[] {
    const out: DnatRule[] = [];
    for (const e of this.#entries.values()) {
      const protocol = e.port.protocol === 'UDP' ? 'udp' : 'tcp';
      for (const dest of e.addrs) out.push({ service: e.svc, dest, port: e.port.port, protocol, toIP: this.#o.listenIP, toPort: e.listener.port });
    }
    return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.port - b.port));
  }

  /** The listener of a Service port, for tests and diagnostics. */
  listener(ns: string, name: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): TcpServicePort | UdpServicePort | undefined {
    for (const e of this.#entries.values()) if (e.svc === `${ns}/${name}` && e.port.port === port && e.port.protocol === protocol) return e.listener;
    return undefined;
  }

  /** Whether `ip:port` is a ready endpoint on this node: what a peer or a relay may ask us to dial. */
  isLocalTarget(ip: string, port: number): boolean {
    for (const s of this.#o.store.services())
      for (const ep of this.#o.store.endpoints(s.namespace, s.name)) {
        if (ep.ip !== ip || (ep.nodeName !== undefined && ep.nodeName !== '' && ep.nodeName !== this.#o.nodeName)) continue;
        if (ep.ports.some((p) => p.port === port)) return true;
      }
    return false;
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(fn).catch((err: unknown) => this.#o.log?.warn({ err }, 'EdgeMesh proxy sync failed'));
    this.#chain = next;
    return next;
  }

  async #sync(ns: string, name: string): Promise<void> {
    if (this.#stopped) return;
    const svc = this.#o.store.service(ns, name);
    const id = `${ns}/${name}`;
    const want = new Map<string, ProxyPort>();
    if (svc !== undefined && !svc.headless) for (const p of svc.ports) if (p.protocol !== 'SCTP') want.set(portKey(ns, name, p), p);
    let changed = false;
    for (const [k, e] of this.#entries)
      if (e.svc === id && !want.has(k)) {
        this.#entries.delete(k);
        await e.listener.close();
        changed = true;
      }
    if (svc === undefined) {
      if (changed) this.emit('rules', this.rules());
      return;
    }
    const endpoints = this.#o.store.endpoints(ns, name);
    const addrs = addresses(svc);
    const affinity = svc.sessionAffinity === 'ClientIP' ? { timeoutSeconds: svc.affinityTimeoutSeconds ?? DEFAULT_AFFINITY_SECONDS } : undefined;
    for (const [k, p] of want) {
      let e = this.#entries.get(k);
      if (e === undefined) {
        const balancer = new Balancer({ strategy: this.#o.lbStrategy, affinity });
        const listener =
          p.protocol === 'UDP'
            ? new UdpServicePort(k, balancer, this.#o.nodeName, net.isIPv6(this.#o.listenIP) ? 6 : 4, this.#o.log)
            : new TcpServicePort(k, balancer, this.#o.dial, this.#o.log);
        await listener.listen(this.#o.listenIP, 0);
        e = { svc: id, port: p, listener, addrs: [] };
        this.#entries.set(k, e);
        changed = true;
      } else e.listener.balancer.setAffinity(affinity);
      if (e.addrs.join() !== addrs.join()) changed = true;
      e.addrs = addrs;
      e.port = p;
      e.listener.setBackends(backendsFor(p, endpoints));
    }
    if (changed) this.emit('rules', this.rules());
  }
}

function addresses(svc: ProxyService): string[] {
  const out: string[] = [];
  if (svc.meshIP !== undefined && svc.meshIP !== '') out.push(svc.meshIP);
  if (svc.clusterIP !== undefined && svc.clusterIP !== '' && svc.clusterIP !== 'None' && svc.clusterIP !== svc.meshIP) out.push(svc.clusterIP);
  return out;
}
