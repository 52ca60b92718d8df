// The API server's patch engines and selector parsers in-process, at a rate HTTP cannot reach: JSON patch, JSON
// merge patch and strategic merge patch of any document by any patch, label and field selectors of any text.
// Each must return or refuse with an ApiError of a 4xx code; any other throw is what became a 500 over HTTP.
import fc from 'fast-check';
import { applyPatch, type PatchType } from '../../src/apiserver/patch.ts';
import { RESOURCES } from '../../src/apiserver/resources.ts';
import { parseFieldSelector, parseLabelSelector } from '../../src/apiserver/selectors.ts';
import { ApiError } from '../../src/apiserver/status.ts';
import type { KObj } from '../../src/apiserver/store.ts';
import { FuzzFailure, type FuzzTarget } from '../lib/harness.ts';

const json = fc.jsonValue({ maxDepth: 4 });
const key = fc.constantFrom(
  'metadata',
  'spec',
  'status',
  'containers',
  'name',
  'image',
  'labels',
  'finalizers',
  'ports',
  'containerPort',
  'env',
  'value',
  'volumes',
  'a',
  'b',
);
/** Documents shaped like Kubernetes objects: nested maps, lists of named maps, primitive lists. */
const doc: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    json,
    fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    fc.array(fc.record({ name: fc.constantFrom('c', 'd', 'e'), image: fc.string({ maxLength: 3 }), containerPort: fc.nat(3) }, { requiredKeys: [] }), {
      maxLength: 3,
    }),
  ),
})).node;
const directive = fc.record(
  {
    $patch: fc.constantFrom('delete', 'replace', 'merge', 'bogus', 1),
    $retainKeys: fc.oneof(fc.array(key, { maxLength: 3 }), json),
    '$setElementOrder/containers': fc.oneof(fc.array(fc.record({ name: fc.constantFrom('c', 'd') }), { maxLength: 3 }), json),
    '$deleteFromPrimitiveList/finalizers': fc.oneof(fc.array(fc.string({ maxLength: 3 })), json),
    containers: fc.array(fc.oneof(fc.record({ name: fc.constantFrom('c', 'd'), $patch: fc.constantFrom('delete', 'replace') }, { requiredKeys: [] }), json), {
      maxLength: 3,
    }),
    metadata: fc.oneof(doc, fc.record({ finalizers: json, labels: json }, { requiredKeys: [] })),
    spec: doc,
  },
  { requiredKeys: [] },
);
const pointer = fc.oneof(
  fc.array(fc.oneof(key, fc.constantFrom('0', '1', '-', '~0', '~1', '', '01', '999999999999')), { maxLength: 4 }).map((s) => `/${s.join('/')}`),
  fc.string({ maxLength: 8 }),
);
const jsonOps = fc.array(
  fc.record(
    {
      op: fc.oneof(fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test'), json),
      path: fc.oneof(pointer, json),
      from: fc.oneof(pointer, json),
      value: doc,
    },
    { requiredKeys: [] },
  ),
  { maxLength: 5 },
);

export type PatchInput =
  | { kind: 'patch'; type: PatchType; target: unknown; patch: unknown }
  | { kind: 'labels'; text: string }
  | { kind: 'fields'; text: string; resource: number; obj: unknown };

const selectorText = fc.oneof(
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom('app', 'a/b', 'x.io/y', 'metadata.name', 'spec.nodeName', 'status.phase', '!', '', ' '), fc.string({ maxLength: 4 })),
        fc.constantFrom('=', '==', '!=', ' in ', ' notin ', '', ' ', '!', '(', ')'),
        fc.oneof(fc.constantFrom('(a,b)', '(a', 'a)', '()', '', '\\,', 'web'), fc.string({ maxLength: 4 })),
      ),
      { maxLength: 4 },
    )
    .map((parts) => parts.map(([k, o, v]) => `${k}${o}${v}`).join(',')),
  fc.string({ maxLength: 30 }),
);

export const patches: FuzzTarget<PatchInput, undefined> = {
  name: 'patches',
  describe: 'patch engines (json/merge/strategic) and label/field selector parsers, in-process',
  async setup() {
    return undefined;
  },
  arbitrary() {
    return fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('patch' as const),
          type: fc.constantFrom<PatchType>('json', 'merge', 'strategic'),
          // What is patched is always a stored object.
          target: fc.dictionary(key, doc, { maxKeys: 4 }),
          patch: fc.oneof(directive, jsonOps, doc),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('labels' as const), text: selectorText }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('fields' as const), text: selectorText, resource: fc.nat(), obj: doc }) },
    );
  },
  async check(_ctx, i) {
    try {
      if (i.kind === 'patch') applyPatch(i.type, structuredClone(i.target) as KObj, structuredClone(i.patch));
      else if (i.kind === 'labels') parseLabelSelector(i.text)({ metadata: { labels: { app: 'web', 'a/b': 'c' } } });
      else {
        const def = RESOURCES[i.resource % RESOURCES.length];
        if (def !== undefined) parseFieldSelector(i.text, def)((typeof i.obj === 'object' && i.obj !== null ? i.obj : {}) as KObj);
      }
    } catch (err) {
      if (err instanceof ApiError && err.httpCode >= 400 && err.httpCode < 500) return;
      throw new FuzzFailure('wrong-answer', `${i.kind} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} (a 500 over HTTP)`);
    }
  },
  async teardown() {},
};
