import { sh, shOk } from './sh.ts';

/**
 * A network namespace joined to the host by a veth pair: the edge lives inside with its own loopback (so two
 * edgecores on one host do not fight over their fixed local ports) and reaches the cloud at the host end's
 * address. A cut is iptables DROP inside the namespace, both ways: packets vanish and TCP notices nothing
 * until its own timers fire, as when a link dies between two routers, never a clean close.
 */
export class EdgeNetns {
  readonly name: string;
  readonly hostIp: string;
  readonly edgeIp: string;
  readonly #hostIf: string;
  readonly #peerIf: string;
  #cut = false;

  constructor(tag: string, index: number, subnet: number) {
    this.name = `${tag}e${index}`;
    this.#hostIf = `${tag}h${index}`;
    this.#peerIf = `${tag}p${index}`;
    this.hostIp = `10.213.${subnet}.${index * 4 + 1}`;
    this.edgeIp = `10.213.${subnet}.${index * 4 + 2}`;
  }

  get nsPath(): string {
    return `/run/netns/${this.name}`;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  async create(): Promise<void> {
    await this.destroy();
    await shOk('ip', ['netns', 'add', this.name]);
    await shOk('ip', ['link', 'add', this.#hostIf, 'type', 'veth', 'peer', 'name', this.#peerIf]);
    await shOk('ip', ['link', 'set', this.#peerIf, 'netns', this.name]);
    await shOk('ip', ['addr', 'add', `${this.hostIp}/30`, 'dev', this.#hostIf]);
    await shOk('ip', ['link', 'set', this.#hostIf, 'up']);
    const inNs = (args: string[]) => shOk('ip', ['netns', 'exec', this.name, ...args]);
    await inNs(['ip', 'addr', 'add', `${this.edgeIp}/30`, 'dev', this.#peerIf]);
    await inNs(['ip', 'link', 'set', this.#peerIf, 'up']);
    await inNs(['ip', 'link', 'set', 'lo', 'up']);
    await inNs(['ip', 'route', 'add', 'default', 'via', this.hostIp]);
  }

  #rules(op: '-I' | '-D'): string[][] {
    return [
      ['iptables', op, 'OUTPUT', '-d', this.hostIp, '-j', 'DROP'],
      ['iptables', op, 'INPUT', '-s', this.hostIp, '-j', 'DROP'],
    ];
  }

  async cut(): Promise<void> {
    if (this.#cut) return;
    for (const r of this.#rules('-I')) await shOk('ip', ['netns', 'exec', this.name, ...r]);
    this.#cut = true;
  }

  async restore(): Promise<void> {
    if (!this.#cut) return;
    for (const r of this.#rules('-D')) await shOk('ip', ['netns', 'exec', this.name, ...r]);
    this.#cut = false;
  }

  /** Removes the namespace and the host end (the peer goes with the namespace); quiet when nothing exists. */
  async destroy(): Promise<void> {
    await sh('ip', ['link', 'del', this.#hostIf]);
    await sh('ip', ['netns', 'del', this.name]);
  }
}
