import { randomUUID } from 'node:crypto';
import { MalformedMessageError } from './errors.ts';

/**
 * KubeEdge's beehive message, field for field, so that what crosses the bus is what crosses the wire.
 * Key order matters for byte-identical frames: header, route, content (as KubeEdge's Go encoder writes them).
 */
export type MessageHeader = {
  msg_id: string;
  parent_msg_id?: string;
  timestamp: number;
  resourceversion?: string;
  sync?: boolean;
  type?: string;
};

export type MessageRoute = {
  source?: string;
  destination?: string;
  group?: string;
  operation?: string;
  resource?: string;
};

export type Message = {
  header: MessageHeader;
  route: MessageRoute;
  content: unknown;
};

export const Operation = {
  insert: 'insert',
  delete: 'delete',
  query: 'query',
  update: 'update',
  patch: 'patch',
  upload: 'upload',
  response: 'response',
  error: 'error',
  keepalive: 'keepalive',
  get: 'get',
  connect: 'connect',
  publish: 'publish',
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  message: 'message',
} as const;

/** Resource type tokens (index 1 of `<ns>/<type>/<name>`). */
export const ResourceType = {
  pod: 'pod',
  podList: 'podlist',
  podStatus: 'podstatus',
  podPatch: 'podpatch',
  configmap: 'configmap',
  secret: 'secret',
  node: 'node',
  nodeStatus: 'nodestatus',
  nodePatch: 'nodepatch',
  lease: 'lease',
  event: 'event',
  service: 'service',
  endpoints: 'endpoints',
  endpointSlice: 'endpointslice',
  serviceAccountToken: 'serviceaccounttoken',
  membership: 'membership',
  twin: 'twin',
  device: 'device',
  deviceModel: 'devicemodel',
} as const;

export type NewMessageOptions = {
  source: string;
  group: string;
  operation: string;
  resource: string;
  content?: unknown;
  resourceVersion?: string;
  parentId?: string;
};

export function newMessage(o: NewMessageOptions): Message {
  const header: MessageHeader = { msg_id: randomUUID(), timestamp: Date.now() };
  if (o.parentId !== undefined) header.parent_msg_id = o.parentId;
  if (o.resourceVersion !== undefined && o.resourceVersion !== '') header.resourceversion = o.resourceVersion;
  return {
    header,
    route: { source: o.source, group: o.group, operation: o.operation, resource: o.resource },
    content: o.content ?? null,
  };
}

/**
 * A reply to `req`: new id, `parent_msg_id` = the request's id, operation `response`. KubeEdge's cloud
 * replies name itself as source (`edgecontroller`/`resource`); callers pass that when they differ from the request.
 */
export function newResponse(req: Message, content: unknown, o: { source?: string; group?: string; resourceVersion?: string } = {}): Message {
  return newMessage({
    source: o.source ?? req.route.source ?? '',
    group: o.group ?? req.route.group ?? '',
    operation: Operation.response,
    resource: req.route.resource ?? '',
    content,
    parentId: req.header.msg_id,
    ...(o.resourceVersion !== undefined ? { resourceVersion: o.resourceVersion } : {}),
  });
}

export function newErrorResponse(req: Message, errText: string, source?: string): Message {
  const m = newResponse(req, errText, source !== undefined ? { source } : {});
  m.route.operation = Operation.error;
  return m;
}

/** Short resource form `<namespace>/<type>/<name>` as seen on the wire. */
export type ParsedResource = { namespace: string; type: string; name: string };

export function parseResource(resource: string): ParsedResource {
  const parts = resource.split('/');
  return { namespace: parts[0] ?? '', type: parts[1] ?? '', name: parts.slice(2).join('/') };
}

export function buildResource(namespace: string, type: string, name?: string): string {
  return name === undefined || name === '' ? `${namespace}/${type}` : `${namespace}/${type}/${name}`;
}

const MAX_ID = 128;

/**
 * Validates a decoded JSON value as a Message. Anything from the network passes through here first:
 * a peer that sends something else gets a typed error, never a crash further down.
 */
export function toMessage(value: unknown): Message {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedMessageError('not a JSON object');
  }
  const v = value as Record<string, unknown>;
  const h = v['header'];
  const r = v['route'];
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new MalformedMessageError('header missing');
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new MalformedMessageError('route missing');
  const hh = h as Record<string, unknown>;
  const rr = r as Record<string, unknown>;
  const id = hh['msg_id'];
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID) throw new MalformedMessageError('header.msg_id must be a non-empty string');
  for (const k of ['parent_msg_id', 'resourceversion', 'type'] as const) {
    if (hh[k] !== undefined && typeof hh[k] !== 'string') throw new MalformedMessageError(`header.${k} must be a string`);
  }
  if (hh['timestamp'] !== undefined && typeof hh['timestamp'] !== 'number') {
    throw new MalformedMessageError('header.timestamp must be a number');
  }
  for (const k of ['source', 'destination', 'group', 'operation', 'resource'] as const) {
    if (rr[k] !== undefined && typeof rr[k] !== 'string') throw new MalformedMessageError(`route.${k} must be a string`);
  }
  return value as Message;
}

/** Content as an object: KubeEdge senders sometimes put a JSON document in a string (patches, twin events). */
export function contentAsObject(m: Message): unknown {
  if (typeof m.content === 'string') {
    try {
      return JSON.parse(m.content);
    } catch {
      return m.content;
    }
  }
  return m.content;
}
