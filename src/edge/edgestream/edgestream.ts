import { connect } from 'node:net';
import type { Logger } from '../../core/log.ts';
import { logger } from '../../core/log.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { dialTunnel, type StreamHeader, type TunnelSession, type TunnelStream } from '../../stream/index.ts';
import { Backoff } from '../edgehub/backoff.ts';

export type TunnelTls = { caPem: string; certPem: string; keyPem: string };

export type EdgeStreamOptions = {
  enable: boolean;
  /** `host:port` of CloudStream's tunnel server (KubeEdge's edgeStream.server). */
  server: string;
  nodeName: string;
  /** Sent as SessionInternalIP: the address the kube-apiserver uses for this node's kubelet. */
  internalIP?: string;
  /** edged's kubelet API on 127.0.0.1 (tailoredKubeletConfig.readOnlyPort); 0 = none, streams are refused. */
  kubeletPort: number;
  handshakeTimeoutSec: number;
  /** Ping interval of the tunnel; an unanswered ping drops it (KubeEdge's readDeadline). */
  readDeadlineSec: number;
  idleTimeoutMs?: number;
  /** The node's certificate (EdgeHub's bootstrap writes it). */
  tls: () => Promise<TunnelTls>;
  backoff?: { initialMs: number; maxMs: number };
  log?: Logger;
};

/**
 * KubeEdge's EdgeStream: dials CloudStream's tunnel server (nothing dials in to the edge), keeps the tunnel up
 * with backoff, and pipes each `kubelet` stream the cloud opens to edged's kubelet API on loopback. A stream for
 * another node is refused: the cloud routes by the pod's node, and this edge checks it too.
 */
export class EdgeStream implements Module {
  readonly name = 'edgestream';
  readonly group = 'edgestream';
  readonly enabled: boolean;
  readonly #o: EdgeStreamOptions;
  readonly #log: Logger;
  #session: TunnelSession | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  readonly stats = { connects: 0, streams: 0, refused: 0 };

  constructor(o: EdgeStreamOptions) {
    this.#o = o;
    this.enabled = o.enable;
    this.#log = o.log ?? logger('edgestream');
  }

  get connected(): boolean {
    return this.#session !== undefined && !this.#session.closed;
  }

  async start(_ctx: ModuleContext): Promise<void> {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    this.#session?.close(1001, 'edgecore stopping');
    await this.#loop;
  }

  async #run(): Promise<void> {
    const backoff = new Backoff(this.#o.backoff ?? { initialMs: 1000, maxMs: 30_000 });
    while (!this.#stopped) {
      try {
        const tls = await this.#o.tls();
        const session = await dialTunnel({
          url: this.#o.server,
          ca: Buffer.from(tls.caPem),
          cert: Buffer.from(tls.certPem),
          key: Buffer.from(tls.keyPem),
          nodeName: this.#o.nodeName,
          purpose: 'kubelet',
          ...(this.#o.internalIP === undefined ? {} : { internalIP: this.#o.internalIP }),
          handshakeTimeoutMs: this.#o.handshakeTimeoutSec * 1000,
          keepaliveMs: this.#o.readDeadlineSec * 1000,
          ...(this.#o.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: this.#o.idleTimeoutMs }),
          signal: this.#abort.signal,
          log: this.#log,
        });
        this.stats.connects++;
        backoff.reset();
        this.#session = session;
        this.#log.info({ server: this.#o.server }, 'stream tunnel connected');
        session.on('stream', (header, stream) => this.#serve(header, stream));
        await new Promise<void>((resolve) => session.once('close', resolve));
        this.#session = undefined;
        if (!this.#stopped) this.#log.warn({ server: this.#o.server }, 'stream tunnel lost; reconnecting');
      } catch (err) {
        if (this.#stopped) break;
        this.#log.warn({ err, attempt: backoff.attempt }, 'stream tunnel dial failed; retrying');
      }
      if (this.#stopped) break;
      const wait = Math.max(200, backoff.next());
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.#abort.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  #serve(header: StreamHeader, stream: TunnelStream): void {
    stream.on('error', () => {});
    if (header.kind !== 'kubelet') {
      this.stats.refused++;
      return stream.reset(`edge serves no "${header.kind}" streams`);
    }
    if (header['node'] !== this.#o.nodeName) {
      this.stats.refused++;
      this.#log.warn({ node: header['node'] }, 'kubelet stream for another node refused');
      return stream.reset(`this tunnel is node ${this.#o.nodeName}'s, not ${String(header['node'])}'s`);
    }
    if (this.#o.kubeletPort === 0) {
      this.stats.refused++;
      return stream.reset('the kubelet API is off on this node (tailoredKubeletConfig.readOnlyPort: 0)');
    }
    this.stats.streams++;
    const sock = connect({ host: '127.0.0.1', port: this.#o.kubeletPort });
    sock.on('error', (err) => {
      this.#log.debug({ err }, 'kubelet API connection failed');
      stream.reset(`kubelet API on 127.0.0.1:${this.#o.kubeletPort}: ${err.message}`);
    });
    stream.pipe(sock);
    sock.pipe(stream);
    // A clean end travels as FIN through the pipes (queued bytes still go out); only an abrupt close cuts the other side.
    let ended = false;
    sock.on('end', () => {
      ended = true;
    });
    sock.on('close', () => {
      if (!ended) stream.destroy();
    });
    stream.on('close', () => sock.destroy());
  }
}
