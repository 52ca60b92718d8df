import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import { Operation, parseResource, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { KUBE_VERSION, VERSION } from '../../version.ts';
import { collectHostInfo } from './nodestatus/host-info.ts';
import { NodeStatusManager } from './nodestatus/node-status.ts';

export const EDGED_MODULE = 'edged';
export const EDGED_GROUP = 'edged';

export type EdgedOptions = {
  enable?: boolean;
  nodeName: string;
  registerNodeNamespace?: string;
  nodeIP?: string;
  nodeLabels?: Record<string, string>;
  maxPods?: number;
  nodeStatusUpdateFrequencyMs?: number;
  nodeLeaseDurationSeconds?: number;
  /** e.g. `docker://20.10.24`. */
  containerRuntimeVersion: string;
  rootDirectory?: string;
  /** Defaults to `v1.32.10-kubeedge-ts-<version>`. */
  kubeletVersion?: string;
  /** Timeout of each request to metamanager; default the loop's period, at least 5 s. */
  requestTimeoutMs?: number;
};

/**
 * Edged: for now registers the node and keeps its status and lease fresh; receives pods, configmaps and
 * secrets from metamanager (pod running comes later).
 */
export class Edged implements Module {
  readonly name = EDGED_MODULE;
  readonly group = EDGED_GROUP;
  readonly enabled: boolean;
  readonly #o: EdgedOptions;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #status: NodeStatusManager | undefined;

  constructor(o: EdgedOptions) {
    this.#o = o;
    this.enabled = o.enable ?? true;
  }

  get nodeStatus(): NodeStatusManager | undefined {
    return this.#status;
  }

  async start(ctx: ModuleContext): Promise<void> {
    const o = this.#o;
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    const hostOpts = {
      nodeName: o.nodeName,
      maxPods: o.maxPods ?? 110,
      containerRuntimeVersion: o.containerRuntimeVersion,
      kubeletVersion: o.kubeletVersion ?? `${KUBE_VERSION}-kubeedge-ts-${VERSION}`,
      rootDirectory: o.rootDirectory ?? '/var/lib/kubelet',
      ...(o.nodeIP !== undefined ? { nodeIP: o.nodeIP } : {}),
    };
    this.#status = new NodeStatusManager(ctx.bus, ctx.log.child({ part: 'nodestatus' }), {
      nodeName: o.nodeName,
      registerNodeNamespace: o.registerNodeNamespace ?? 'default',
      nodeLabels: o.nodeLabels ?? {},
      updateFrequencyMs: o.nodeStatusUpdateFrequencyMs ?? 10_000,
      leaseDurationSeconds: o.nodeLeaseDurationSeconds ?? 40,
      hostInfo: () => collectHostInfo(hostOpts),
      ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
    });
    ctx.bus.register(this.name, this.group, (m) => this.#dispatch(m));
    this.#status.start();
  }

  async stop(): Promise<void> {
    this.#status?.stop();
    this.#bus?.unregister(this.name);
  }

  #dispatch(m: Message): void {
    const r = m.route;
    if (r.operation === Operation.connect && r.resource === 'node/connection') {
      if (m.content === 'cloud_connected') this.#status?.cloudConnected();
      return;
    }
    // Pods, configmaps, secrets from metamanager: pod running is a later issue.
    const { type } = parseResource(r.resource ?? '');
    this.#log?.debug({ op: r.operation, resource: r.resource, type }, 'resource from metamanager');
  }
}
