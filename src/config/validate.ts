/**
 * The shared pipeline from YAML text to a validated config: parse with line tracking, drop nulls, optionally
 * convert an old layout, validate with zod, and turn every issue into a ConfigProblem that names the key path,
 * its line, what was found and what would be valid. Unknown keys become warnings (KubeEdge ignores them).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatProblem, type ConfigProblem } from './errors.ts';
import type { Conversion, Path } from './v1alpha1.ts';

export type ParseResult<T> = { config: T; warnings: string[] };

export type PipelineOptions = {
  /** Hint printed under the problems for an empty file. */
  fix?: string;
  /** Rewrites an old layout into the current one (edgecore v1alpha1), or returns undefined to leave it. */
  convert?: (raw: Record<string, unknown>) => Conversion | undefined;
  /** Start-up notes about a valid file (effects.ts: modules not built, keys with no effect), as warnings. */
  notes?: (raw: Record<string, unknown>) => { path: Path; message: string }[];
};

const isPlainMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `key:` with no value means "not set" to us (defaults apply), not a null that fails type checks. */
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (isPlainMap(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = stripNulls(x);
    return out;
  }
  return v;
}

/** Line of the deepest key of `path` present in the document (the key itself when present). */
function lineOf(doc: Document, lc: LineCounter, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      const range = isScalar(pair.key) ? pair.key.range : undefined;
      if (range) line = lc.linePos(range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      const range = (item as { range?: [number, number, number] }).range;
      if (range) line = lc.linePos(range[0]).line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const YAML11_BOOL = /^(y|yes|n|no|on|off|true|false)$/i;

function issueMessage(issue: z.core.$ZodIssue, found: unknown): string {
  let msg = issue.message;
  if (issue.code === 'invalid_type' && found === undefined) return 'is required';
  if (/\bgot\b/.test(msg)) return msg; // cross-field checks word their own finding
  if (issue.code === 'invalid_type' && issue.expected === 'object') msg = 'expected a mapping of keys';
  if (issue.code === 'invalid_type' && issue.expected === 'array') msg = 'expected a list';
  msg += `, got ${describe(found)}`;
  if (issue.code === 'invalid_type' && issue.expected === 'boolean' && typeof found === 'string' && YAML11_BOOL.test(found)) {
    msg += ' (YAML 1.2 reads unquoted yes/no/on/off as strings; write true or false)';
  }
  return msg;
}

function yamlProblems(doc: Document): ConfigProblem[] {
  return doc.errors.map((e) => {
    const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
    const line = e.linePos?.[0]?.line;
    const p: ConfigProblem = { path: '', message: `YAML syntax error: ${first}` };
    if (line !== undefined) p.line = line;
    return p;
  });
}

/**
 * Parses and validates `text` against `schema`. Throws ConfigError with every problem found.
 * @example parseWithSchema(text, '/etc/kubeedge/config/edgecore.yaml', edgeCoreSchema(detectHost()))
 */
export function parseWithSchema<S extends z.ZodType>(text: string, source: string, schema: S, opts: PipelineOptions = {}): ParseResult<z.output<S>> {
  const emptyFix = opts.fix;
  if (text.trim() === '') throw new ConfigError(source, [{ path: '', message: 'the file is empty' }], emptyFix);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length > 0) throw new ConfigError(source, yamlProblems(doc));
  const js: unknown = doc.toJS();
  if (js === null || js === undefined) {
    throw new ConfigError(source, [{ path: '', message: 'the file holds no settings (only comments or an empty document)' }], emptyFix);
  }
  if (!isPlainMap(js)) {
    throw new ConfigError(source, [
      { path: '', line: 1, message: `the top level must be a mapping of keys (apiVersion, kind, modules, ...), got ${describe(js)}` },
    ]);
  }

  let raw = stripNulls(js) as Record<string, unknown>;
  const warnings: ConfigProblem[] = [];
  const problems: ConfigProblem[] = [];
  const renames = new Map<string, Path>();
  const place = (path: Path, message: string): ConfigProblem => {
    const origin = renames.get(path.join('.')) ?? path;
    const p: ConfigProblem = { path: formatPath(origin), message };
    const line = lineOf(doc, lc, origin);
    if (line !== undefined) p.line = line;
    return p;
  };

  const conv = opts.convert?.(raw);
  if (conv !== undefined) {
    raw = conv.raw;
    for (const [k, v] of conv.renames) renames.set(k, v);
    for (const d of conv.dropped) warnings.push(place(d.path, d.reason));
    for (const pr of conv.problems) problems.push(place(pr.path, pr.message));
    warnings.push({
      path: 'apiVersion',
      ...lineProp(lineOf(doc, lc, ['apiVersion'])),
      message: 'old v1alpha1 layout, read as v1alpha2; `--defaultconfig` prints the current layout',
    });
  }

  // Two passes: the first finds unknown keys (warned about, then removed) and real problems; the second,
  // on the cleaned tree, runs the cross-field checks that zod skips while an object has issues.
  let result = schema.safeParse(raw);
  if (!result.success) {
    let removed = false;
    for (const issue of result.error.issues) {
      const path = issue.path as Path;
      if (issue.code === 'unrecognized_keys') {
        const parent = valueAt(raw, path) as Record<string, unknown>;
        for (const key of issue.keys) {
          warnings.push(place([...path, key], 'unknown key, ignored'));
          delete parent[key];
          removed = true;
        }
      } else {
        problems.push(place(path, issueMessage(issue, valueAt(raw, path))));
      }
    }
    if (problems.length === 0 && removed) {
      result = schema.safeParse(raw);
      if (!result.success) {
        for (const issue of result.error.issues) problems.push(place(issue.path as Path, issueMessage(issue, valueAt(raw, issue.path as Path))));
      }
    }
  }
  if (problems.length > 0 || !result.success) {
    problems.sort(byLine);
    throw new ConfigError(source, problems);
  }
  warnings.sort(byLine);
  // notes after the file's own warnings, in file order, the whole-file ones last
  const notes = (opts.notes?.(raw) ?? []).map((n) => place(n.path, n.message));
  notes.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  warnings.push(...notes);
  return { config: result.data as z.output<S>, warnings: warnings.map(formatProblem) };
}

/** `modules.cloudHub.advertiseAddress[0]` */
export function formatPath(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

const byLine = (a: ConfigProblem, b: ConfigProblem): number => (a.line ?? 0) - (b.line ?? 0);

function lineProp(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}
