import type { Logger } from '../../core/log.ts';
import type { Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { OwnChain } from '../../net/iptables.ts';

/** Our nat chain; `keadm reset` removes it too. */
export const STREAM_CHAIN = 'KE-STREAM';
/** Bus resource CloudStream reports kubelet tunnels on (operation `connect` / `delete`); same string there. */
export const TUNNEL_RESOURCE = 'cloudstream/tunnel';

export type TunnelEvent = { node: string; internalIP?: string | undefined };
export type NodeAddress = { ip: string | undefined; kubeletPort: number | undefined };

export type IptablesManagerOptions = {
  enabled: boolean;
  mode: 'internal' | 'external';
  /**
   * Where the DNAT sends a node's kubelet traffic: CloudStream's stream server (asked at each pass, since its
   * port is known once it listens); undefined when no stream server is configured.
   */
  stream: (() => { ip: string; port: number } | undefined) | undefined;
  /** The node's InternalIP and kubelet port as its Node object says (the kube-apiserver dials what is there). */
  lookup: (node: string) => Promise<NodeAddress>;
  /** Kubelet port when the Node does not say yet (commonConfig.tunnelPort). */
  defaultKubeletPort: number;
  resyncMs?: number;
  iptablesBin?: string;
  log: Logger;
};

type Rule = { ip: string; port: number; to: string; spec: string[] };

/**
 * KubeEdge's iptablesmanager, run by cloudcore itself: while a node's kubelet tunnel is up, a DNAT of
 * <node InternalIP>:<kubelet port> to the stream server, so a kube-apiserver whose traffic passes through this
 * host (or network namespace) reaches the edge's kubelet API with no manual step. Rules follow the tunnels, are
 * re-checked every resync (a Node that reports its port after its tunnel came up), and all go at stop.
 */
export class IptablesManager implements Module {
  readonly name = 'iptablesManager';
  readonly group = 'iptablesManager';
  readonly enabled: boolean;
  readonly #o: IptablesManagerOptions;
  readonly #chain: OwnChain;
  /** Nodes with a kubelet tunnel (what CloudStream reported). */
  readonly #up = new Map<string, TunnelEvent>();
  readonly #rules = new Map<string, Rule>();
  #queue: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #active = false;

  constructor(o: IptablesManagerOptions) {
    this.#o = o;
    this.enabled = o.enabled;
    this.#chain = new OwnChain({
      table: 'nat',
      chain: STREAM_CHAIN,
      parents: ['PREROUTING', 'OUTPUT'],
      ...(o.iptablesBin === undefined ? {} : { bin: o.iptablesBin }),
    });
  }

  /** Node -> "ip:port" of the DNATs in place (for status and tests). */
  rules(): Record<string, string> {
    return Object.fromEntries([...this.#rules].map(([n, r]) => [n, `${r.ip}:${r.port}`]));
  }

  async start(ctx: ModuleContext): Promise<void> {
    const log = this.#o.log;
    if (this.#o.mode === 'external') {
      log.info(
        'iptablesManager mode external: no rules are programmed here; DNAT <nodeIP>:<kubelet port> to the stream server (streamPort) on the host the kube-apiserver traffic passes',
      );
      return;
    }
    if (this.#o.stream === undefined) {
      // The embedded API server reaches edges in process; only a real kube-apiserver needs the DNAT.
      log.info('iptablesManager: no stream server (modules.cloudStream.tlsStreamCAFile absent), so nothing to DNAT to; no rules');
      return;
    }
    try {
      await this.#chain.ensure();
    } catch (err) {
      // No NET_ADMIN (or no iptables) must not stop cloudcore: the manual DNAT still works, as in KubeEdge.
      log.warn(
        { err },
        'iptablesManager cannot program iptables (needs root or CAP_NET_ADMIN and the iptables binary); add the DNAT of <nodeIP>:<kubelet port> to the stream server by hand, or set modules.iptablesManager.mode: external',
      );
      return;
    }
    this.#active = true;
    ctx.bus.register(this.name, this.group, (m) => this.#onMessage(m));
    this.#timer = setInterval(() => this.#sync(), this.#o.resyncMs ?? 10_000);
    this.#timer.unref();
    log.info({ chain: `nat/${STREAM_CHAIN}` }, 'iptablesManager programming kubelet DNATs to the stream server');
  }

  async stop(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#queue;
    await this.#chain.remove();
    this.#rules.clear();
    this.#o.log.info({ chain: `nat/${STREAM_CHAIN}` }, 'iptablesManager removed its rules');
  }

  #onMessage(m: Message): void {
    if (m.route.resource !== TUNNEL_RESOURCE) return;
    const ev = m.content as TunnelEvent | null;
    if (ev === null || typeof ev.node !== 'string') return;
    if (m.route.operation === 'connect') this.#up.set(ev.node, ev);
    else this.#up.delete(ev.node);
    this.#sync();
  }

  /** Serialised: one pass at a time, each from the latest state. */
  #sync(): void {
    this.#queue = this.#queue
      .then(() => this.#pass())
      .catch((err: unknown) => this.#o.log.warn({ err }, 'iptablesManager sync failed; retrying at next resync'));
  }

  async #pass(): Promise<void> {
    const stream = this.#o.stream?.();
    if (!this.#active || stream === undefined) return;
    for (const [node, r] of [...this.#rules]) {
      if (this.#up.has(node)) continue;
      await this.#chain.delete(r.spec);
      this.#rules.delete(node);
      this.#o.log.info({ node, from: `${r.ip}:${r.port}` }, 'kubelet DNAT removed (tunnel gone)');
    }
    for (const [node, ev] of this.#up) {
      let addr: NodeAddress = { ip: undefined, kubeletPort: undefined };
      try {
        addr = await this.#o.lookup(node);
      } catch (err) {
        this.#o.log.debug({ err, node }, 'cannot read the node; using the tunnel headers');
      }
      const ip = addr.ip ?? ev.internalIP;
      if (ip === undefined || !/^[0-9.]+$/.test(ip)) continue; // IPv4 only: iptables, not ip6tables
      const port = addr.kubeletPort ?? this.#o.defaultKubeletPort;
      const old = this.#rules.get(node);
      const to = `${stream.ip}:${stream.port}`;
      if (old !== undefined && old.ip === ip && old.port === port && old.to === to) continue;
      const spec = [
        '-d',
        `${ip}/32`,
        '-p',
        'tcp',
        '--dport',
        String(port),
        '-m',
        'comment',
        '--comment',
        `kubeedge-ts kubelet ${node}`,
        '-j',
        'DNAT',
        '--to-destination',
        to,
      ];
      await this.#chain.add(spec);
      if (old !== undefined) await this.#chain.delete(old.spec);
      this.#rules.set(node, { ip, port, to, spec });
      this.#o.log.info({ node, from: `${ip}:${port}`, to }, 'kubelet DNAT programmed');
    }
  }
}
