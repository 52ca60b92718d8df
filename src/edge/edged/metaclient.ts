import type { Bus } from '../../core/bus.ts';
import { EdgeGroups, EdgeModules } from '../common/modules.ts';
import { buildResource, newMessage, Operation, type Message } from '../../core/message.ts';
import { unwrapReply } from '../metamanager/replies.ts';
import { EdgedRequestError } from './nodestatus/errors.ts';
import type { IssuedToken, TokenRequestSpec } from './pods/projected.ts';

const META = EdgeModules.metaManager;

/**
 * Edged's view of the API server, through MetaManager: answers come from the cloud when connected and from the
 * local store when not (KubeEdge's metaclient).
 */
export class MetaClient {
  readonly #bus: Bus;
  readonly #timeoutMs: number;

  constructor(bus: Bus, timeoutMs: number) {
    this.#bus = bus;
    this.#timeoutMs = timeoutMs;
  }

  async request(operation: string, resource: string, content: unknown = null): Promise<Message> {
    const m = newMessage({ source: EdgeModules.edged, group: EdgeGroups.meta, operation, resource, content });
    const reply = await this.#bus.request(META, m, this.#timeoutMs);
    if (reply.route.operation === Operation.error) {
      throw new EdgedRequestError(operation, resource, String(reply.content));
    }
    return reply;
  }

  /** A configmap or secret, or undefined when neither the cloud nor the store has it. */
  async get<T>(namespace: string, type: 'configmap' | 'secret', name: string): Promise<T | undefined> {
    try {
      const reply = await this.request(Operation.query, buildResource(namespace, type, name));
      const { object } = unwrapReply(reply.content);
      return (object ?? undefined) as T | undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A token of service account `name` (KubeEdge's `serviceaccounttoken` query: a TokenRequest out, the minted
   * TokenRequest back), or undefined when the cloud cannot give one (offline, refused).
   */
  async serviceAccountToken(namespace: string, name: string, spec: TokenRequestSpec): Promise<IssuedToken | undefined> {
    try {
      const content = { metadata: { creationTimestamp: null }, spec, status: { token: '', expirationTimestamp: null } };
      const reply = await this.request(Operation.query, buildResource(namespace, 'serviceaccounttoken', name), content);
      const { object } = unwrapReply(reply.content);
      const status = object?.['status'] as { token?: unknown; expirationTimestamp?: unknown } | undefined;
      if (typeof status?.token !== 'string' || status.token === '') return undefined;
      return { token: status.token, expirationTimestamp: typeof status.expirationTimestamp === 'string' ? status.expirationTimestamp : '' };
    } catch {
      return undefined;
    }
  }

  /** Every pod in the local store (all namespaces): what the edge runs while the cloud is away. */
  async storedPods<T>(): Promise<T[]> {
    const reply = await this.request(Operation.query, buildResource('', 'pod'));
    return Array.isArray(reply.content) ? (reply.content as T[]) : [];
  }
}
