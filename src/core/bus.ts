import { TimeoutError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Message } from './message.ts';

export type MessageHandler = (msg: Message) => void;

type Endpoint = { name: string; group: string; handler: MessageHandler };
type Waiter = { resolve: (m: Message) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/**
 * The in-process message bus (beehive's context). Delivery is asynchronous (next macrotask) so a
 * handler never runs inside its sender's stack, and a throwing handler is logged, not propagated.
 */
export class Bus {
  readonly #endpoints = new Map<string, Endpoint>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  register(name: string, group: string, handler: MessageHandler): void {
    this.#endpoints.set(name, { name, group, handler });
  }

  unregister(name: string): void {
    this.#endpoints.delete(name);
  }

  has(name: string): boolean {
    return this.#endpoints.has(name);
  }

  /** Sends to one module by name. Returns false when no such module is registered. */
  send(module: string, msg: Message): boolean {
    const ep = this.#endpoints.get(module);
    if (ep === undefined) {
      this.#log.debug({ module, resource: msg.route.resource }, 'no module to deliver to');
      return false;
    }
    this.#deliver(ep, msg);
    return true;
  }

  /** Sends to every module of a group. */
  sendToGroup(group: string, msg: Message): number {
    let n = 0;
    for (const ep of this.#endpoints.values()) {
      if (ep.group === group) {
        this.#deliver(ep, msg);
        n++;
      }
    }
    return n;
  }

  /**
   * Sends a request and waits for the message whose `parent_msg_id` is its id (see {@link respond}).
   */
  request(module: string, msg: Message, timeoutMs: number): Promise<Message> {
    return new Promise((resolve, reject) => {
      const id = msg.header.msg_id;
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new TimeoutError(`request ${msg.route.operation} ${msg.route.resource}`, timeoutMs, { module }));
      }, timeoutMs);
      this.#waiters.set(id, { resolve, reject, timer });
      if (!this.send(module, msg)) {
        clearTimeout(timer);
        this.#waiters.delete(id);
        reject(new TimeoutError(`request to absent module ${module}`, 0));
      }
    });
  }

  /** Waits for a response to a message that was sent some other way (for example over the network). */
  awaitResponse(msgId: string, timeoutMs: number): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(msgId);
        reject(new TimeoutError(`response to ${msgId}`, timeoutMs));
      }, timeoutMs);
      this.#waiters.set(msgId, { resolve, reject, timer });
    });
  }

  /** Completes a pending request. Returns false when nobody waits for it (late or unsolicited reply). */
  respond(msg: Message): boolean {
    const parent = msg.header.parent_msg_id;
    if (parent === undefined) return false;
    const w = this.#waiters.get(parent);
    if (w === undefined) return false;
    this.#waiters.delete(parent);
    clearTimeout(w.timer);
    w.resolve(msg);
    return true;
  }

  /** Fails every pending request, e.g. when the daemon stops. */
  close(): void {
    for (const [id, w] of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new TimeoutError(`request ${id} abandoned at shutdown`, 0));
    }
    this.#waiters.clear();
  }

  #deliver(ep: Endpoint, msg: Message): void {
    setImmediate(() => {
      try {
        ep.handler(msg);
      } catch (err) {
        this.#log.error({ err, module: ep.name, resource: msg.route.resource }, 'module handler threw');
      }
    });
  }
}
