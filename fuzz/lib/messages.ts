// Arbitraries for what travels over the cloud-edge link: beehive messages with plausible and implausible
// routes and contents, JSON that is not a message, text that is not JSON, and raw bytes below the WebSocket
// framing (bad opcodes, lengths, masks).
import fc from 'fast-check';
import { Operation, ResourceType } from '../../src/core/message.ts';

const GROUPS = [
  'resource',
  'func',
  'twin',
  'user',
  'meta',
  'edged',
  'hub',
  'bus',
  'taskmanager',
  'edgecontroller',
  'devicecontroller',
  'synccontroller',
  'cloudhub',
  '',
];
const SOURCES = [
  'edged',
  'metamanager',
  'twin',
  'edgecontroller',
  'devicecontroller',
  'cloudhub',
  'websocket',
  'router_eventbus',
  'router_servicebus',
  'eventbus',
  'router',
  '',
];
const TYPES = [...Object.values(ResourceType), 'membership/detail', 'device/updated', 'twin/edge_updated', 'connection', 'sa', 'nope'];
const NAMES = ['fz-node', 'p1', 'cm1', 's1', 'kube-root-ca.crt', 'default', 'dev1', '', '../..', '\u0000'];

const json = fc.jsonValue({ maxDepth: 4 });

/** What the cloud sends an edge: objects for MetaManager, twin and membership updates for DeviceTwin. */
const handledDownstream = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('insert', 'update', 'delete', 'response', 'query', 'patch'),
      fc.constantFrom('pod', 'configmap', 'secret', 'node', 'lease', 'serviceaccounttoken', 'service', 'endpoints'),
      fc.constantFrom('default', 'fz', 'kube-node-lease'),
      fc.constantFrom(...NAMES),
    )
    .map(([operation, type, ns, name]) => ({ source: 'edgecontroller', group: 'resource', operation, resource: `${ns}/${type}/${name}` })),
  fc
    .tuple(
      fc.constantFrom('update', 'delete', 'insert', 'get'),
      fc.constantFrom('membership', 'membership/detail', 'device/dev1/twin/cloud_updated', 'device/dev1/updated', 'device/dev1/state'),
    )
    .map(([operation, r]) => ({ source: 'devicecontroller', group: 'twin', operation, resource: `fz-node/${r}` })),
);

/** The (type, operation) pairs EdgeController handles upstream: most cloud-bound messages hit one. */
const UPSTREAM: [string, string][] = [
  ['configmap', 'query'],
  ['secret', 'query'],
  ['serviceaccounttoken', 'query'],
  ['event', 'insert'],
  ['event', 'patch'],
  ['lease', 'query'],
  ['lease', 'insert'],
  ['lease', 'update'],
  ['node', 'query'],
  ['node', 'insert'],
  ['node', 'update'],
  ['nodepatch', 'patch'],
  ['nodestatus', 'update'],
  ['podpatch', 'patch'],
  ['podstatus', 'update'],
  ['pod', 'delete'],
];
const handledUpstream = fc
  .tuple(
    fc.constantFrom(...UPSTREAM),
    fc.constantFrom('fz-node', 'fz-node', 'other-node'),
    fc.constantFrom('default', 'kube-node-lease', 'fz', ''),
    fc.constantFrom(...NAMES),
    fc.constantFrom('edged', 'metamanager', 'twin'),
  )
  .map(([[type, operation], node, ns, name, source]) => ({ source, group: 'resource', operation, resource: `node/${node}/${ns}/${type}/${name}` }));

const nsTypeName = fc
  .tuple(fc.constantFrom('default', 'fz', 'kube-node-lease', ''), fc.constantFrom(...TYPES), fc.constantFrom(...NAMES))
  .map(([ns, t, n]) => `${ns}/${t}/${n}`);
/** Edge-bound resources are `ns/type/name`; cloud-bound ones `node/<node>/ns/type/name`. */
const resourceFor = (to: 'cloud' | 'edge') =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: to === 'edge' ? nsTypeName : fc.tuple(fc.constantFrom('fz-node', 'fz-node', 'other-node', ''), nsTypeName).map(([n, r]) => `node/${n}/${r}`),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('node/connection', 'membership/detail', '$hw/events/device/dev1/twin/update', 'fz-node/membership', '/', '//', '///'),
    },
  );

/** A kube object of the kinds the link carries, with holes and wrong types. */
const kubeish = fc.record(
  {
    apiVersion: fc.constantFrom('v1', 'coordination.k8s.io/v1', 'devices.kubeedge.io/v1beta1', 1),
    kind: fc.constantFrom('Pod', 'Node', 'Lease', 'ConfigMap', 'Secret', 'Device', 'Event', 7),
    metadata: fc.oneof(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom(...NAMES), json),
          namespace: fc.oneof(fc.constantFrom('default', 'fz'), json),
          uid: fc.oneof(fc.uuid(), json),
          resourceVersion: fc.oneof(fc.nat().map(String), fc.constantFrom('', 'x', '-1', '1e99'), json),
          labels: json,
          deletionTimestamp: fc.constantFrom('2020-01-01T00:00:00Z', 'yesterday'),
        },
        { requiredKeys: [] },
      ),
      json,
    ),
    spec: fc.oneof(json, fc.record({ nodeName: fc.constantFrom('fz-node', 'other', 3), containers: json, volumes: json }, { requiredKeys: [] })),
    status: fc.oneof(json, fc.record({ phase: fc.constantFrom('Running', 'x'), conditions: json, twins: json }, { requiredKeys: [] })),
    data: json,
  },
  { requiredKeys: [] },
);

/** DeviceTwin's payloads: membership lists and updates, twin syncs, with holes and wrong types. */
const twinish = fc.oneof(
  fc.record(
    {
      devices: fc.oneof(
        fc.array(fc.record({ id: fc.oneof(fc.constantFrom('dev1', 'dev2'), json), name: json, twin: json, attributes: json }, { requiredKeys: [] }), {
          maxLength: 3,
        }),
        json,
      ),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      added_devices: fc.oneof(
        fc.array(fc.record({ id: fc.oneof(fc.constantFrom('dev1'), json), name: json, twin: json }, { requiredKeys: [] }), { maxLength: 2 }),
        json,
      ),
      removed_devices: json,
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      event_id: json,
      twin: fc.oneof(
        fc.dictionary(
          fc.constantFrom('temperature', 'setpoint', ''),
          fc.oneof(
            fc.record(
              { expected: fc.oneof(fc.record({ value: json, metadata: json }, { requiredKeys: [] }), json), actual: json, optional: json, metadata: json },
              { requiredKeys: [] },
            ),
            json,
          ),
        ),
        json,
      ),
    },
    { requiredKeys: [] },
  ),
);

const content = fc.oneof(
  { weight: 2, arbitrary: twinish },
  { weight: 4, arbitrary: kubeish },
  { weight: 2, arbitrary: json },
  { weight: 2, arbitrary: kubeish.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.constantFrom('OK', 'cloud_connected', 'cloud_disconnected', '', 'null') },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b).toString('base64')) },
);

const messageFor = (to: 'cloud' | 'edge') =>
  fc.record(
    {
      header: fc.oneof(
        // Mostly a header the decoder accepts, so the contents reach the modules behind it.
        {
          weight: 8,
          arbitrary: fc.record({
            msg_id: fc.uuid(),
            parent_msg_id: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.uuid() }),
            timestamp: fc.nat(),
            sync: fc.boolean(),
            resourceversion: fc.oneof(fc.nat().map(String), fc.constant('')),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record(
            { msg_id: fc.oneof(fc.uuid(), json), parent_msg_id: json, timestamp: fc.oneof(fc.double(), json), sync: json, resourceversion: json },
            { requiredKeys: [] },
          ),
        },
        { weight: 1, arbitrary: json },
      ),
      route: fc.oneof(
        // Mostly routes the modules behind the link handle, so the contents reach their code.
        { weight: 8, arbitrary: to === 'cloud' ? handledUpstream : handledDownstream },
        {
          weight: 4,
          arbitrary: fc.record({
            source: fc.constantFrom(...SOURCES),
            group: fc.constantFrom(...GROUPS),
            operation: fc.constantFrom(...Object.values(Operation), 'bogus'),
            resource: resourceFor(to),
          }),
        },
        { weight: 1, arbitrary: fc.record({ source: json, group: json, operation: json, resource: json }, { requiredKeys: [] }) },
        { weight: 1, arbitrary: json },
      ),
      content,
    },
    { requiredKeys: ['header', 'route'] },
  );

export type Frame =
  | { kind: 'message'; value: unknown }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'binary'; bytes: Uint8Array }
  | { kind: 'wire'; bytes: Uint8Array };

/** Frames sent towards the cloud or towards an edge. */
export const framesFor = (to: 'cloud' | 'edge'): fc.Arbitrary<Frame> =>
  fc.oneof(
    { weight: 10, arbitrary: messageFor(to).map((value) => ({ kind: 'message' as const, value })) },
    { weight: 1, arbitrary: json.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }).map((text) => ({ kind: 'text' as const, text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ kind: 'binary' as const, bytes })) },
    // Raw bytes written under the WebSocket layer: frames with any opcode, length and mask.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 24 }))
        .map(([b0, b1, rest]) => ({ kind: 'wire' as const, bytes: Uint8Array.from([b0, b1, ...rest]) })),
    },
  );

/** The text or bytes a frame puts on the link (wire frames are written beneath ws by the sender). */
export function frameData(f: Frame): string | Buffer {
  switch (f.kind) {
    case 'message':
    case 'json':
      return `${JSON.stringify(f.value)}\n`;
    case 'text':
      return f.text;
    default:
      return Buffer.from(f.bytes);
  }
}
