// edgecore.yaml / cloudcore.yaml through the real loader: any text must load or fail with a ConfigError whose
// problems are one line each (the daemon prints them and exits 2); any other exception is a crash.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, formatProblem } from '../../src/config/errors.ts';
import { parseCloudCoreConfig, parseEdgeCoreConfig } from '../../src/config/load.ts';
import { edgeCoreSchema } from '../../src/config/edgecore.ts';
import { cloudCoreSchema } from '../../src/config/cloudcore.ts';
import type { HostFacts } from '../../src/config/host.ts';
import { FuzzFailure, type FuzzTarget } from '../lib/harness.ts';

const HOST: HostFacts = { hostname: 'fuzz-host', ip: '10.0.0.1' };

type Ctx = { parse: (text: string) => unknown; base: unknown };

/** A value of any YAML shape, weighted to what configs hold. */
const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('10s', '-1s', '1h2m', '0', '', '1e400', '0x10', '~', 'true', '100Mi', '10%', '::1', 'unix:///x', '9999999999999999999999'),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 3 })),
})).v;

/** The paths of every key in a tree. */
function paths(tree: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (typeof tree === 'object' && tree !== null && !Array.isArray(tree)) {
    for (const [k, v] of Object.entries(tree)) {
      out.push([...prefix, k]);
      paths(v, [...prefix, k], out);
    }
  }
  return out;
}

function setAt(tree: unknown, p: string[], v: unknown): unknown {
  const copy = structuredClone(tree) as Record<string, unknown>;
  let cur: Record<string, unknown> = copy;
  for (const s of p.slice(0, -1)) {
    const next = cur[s];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[s] = {};
    cur = cur[s] as Record<string, unknown>;
  }
  cur[p[p.length - 1] ?? ''] = v;
  return copy;
}

type Input =
  | { kind: 'mutate'; edits: [number, unknown][]; apiVersion: string | undefined; extra: [string, unknown] | undefined }
  | { kind: 'text'; text: string }
  | { kind: 'garble'; at: number; insert: string };

function target(kind: 'edgecore' | 'cloudcore'): FuzzTarget<Input, Ctx> {
  return {
    name: `config-${kind}`,
    describe: `${kind}.yaml: mutated defaults, garbled YAML and random text through the loader (ConfigError or success only)`,
    async setup() {
      const schema = kind === 'edgecore' ? edgeCoreSchema(HOST) : cloudCoreSchema(HOST);
      const base = JSON.parse(JSON.stringify(schema.parse({})));
      const parse = (text: string) =>
        kind === 'edgecore' ? parseEdgeCoreConfig(text, 'fuzz.yaml', { host: HOST }) : parseCloudCoreConfig(text, 'fuzz.yaml', { host: HOST });
      return { parse, base };
    },
    arbitrary() {
      return fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record({
            kind: fc.constant('mutate' as const),
            edits: fc.array(fc.tuple(fc.nat(), value), { minLength: 1, maxLength: 4 }),
            // The old v1alpha1 layout goes through the converter first.
            apiVersion: fc.option(
              fc.constantFrom('edgecore.config.kubeedge.io/v1alpha1', 'edgecore.config.kubeedge.io/v1alpha2', 'cloudcore.config.kubeedge.io/v1alpha1', 'x'),
              { nil: undefined },
            ),
            extra: fc.option(fc.tuple(fc.string({ maxLength: 10 }), value), { nil: undefined }),
          }),
        },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('garble' as const), at: fc.nat(), insert: fc.string({ maxLength: 6, unit: 'binary' }) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ maxLength: 200, unit: 'binary' }) }) },
      );
    },
    async check(ctx, input) {
      let text: string;
      const keys = paths(ctx.base);
      if (input.kind === 'text') text = input.text;
      else if (input.kind === 'garble') {
        const whole = stringify(ctx.base);
        const at = input.at % (whole.length + 1);
        text = whole.slice(0, at) + input.insert + whole.slice(at);
      } else {
        let tree = ctx.base;
        for (const [i, v] of input.edits) tree = setAt(tree, keys[i % keys.length] ?? ['x'], v);
        if (input.apiVersion !== undefined) tree = setAt(tree, ['apiVersion'], input.apiVersion);
        if (input.extra !== undefined)
          tree = setAt(tree, [...(keys[(input.edits[0]?.[0] ?? 0) % keys.length] ?? []).slice(0, -1), input.extra[0]], input.extra[1]);
        text = stringify(tree);
      }
      try {
        ctx.parse(text);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw new FuzzFailure('crash', `loader threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
        if (err.problems.length === 0) throw new FuzzFailure('wrong-answer', 'ConfigError without a problem');
        for (const p of err.problems) {
          const line = formatProblem(p);
          if (line.includes('\n') || p.message.trim() === '') throw new FuzzFailure('wrong-answer', `problem is not one line: ${JSON.stringify(line)}`);
        }
      }
    },
    async teardown() {},
  };
}

export const edgecoreConfig = target('edgecore');
export const cloudcoreConfig = target('cloudcore');
