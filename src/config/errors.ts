import { KubeEdgeError } from '../core/errors.ts';

/** One thing wrong with a config file: the key path (dotted, KubeEdge camelCase), its YAML line, and why. */
export type ConfigProblem = {
  /** Dotted key path such as `modules.edgeHub.heartbeat`; empty for problems with the whole file. */
  path: string;
  /** 1-based line in the YAML file, when the key (or its nearest present parent) is in the file. */
  line?: number;
  /** What was found and what would be valid, e.g. `must be a positive integer number of seconds, got -3`. */
  message: string;
};

/**
 * A config file that cannot be used. Carries every problem found, not just the first, so the operator fixes
 * the file in one go. `fix` is an optional hint printed after the problems (missing file, empty file).
 */
export class ConfigError extends KubeEdgeError {
  readonly problems: readonly ConfigProblem[];
  readonly source: string;
  readonly fix: string | undefined;
  constructor(source: string, problems: ConfigProblem[], fix?: string, options?: { cause?: unknown }) {
    const first = problems[0] ? formatProblem(problems[0]) : 'invalid config';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('KE_CONFIG_INVALID', `invalid config ${source}: ${first}${more}`, { source, problems }, options);
    this.problems = problems;
    this.source = source;
    this.fix = fix;
  }
}

/** A string that is not a Go duration (`10s`, `1m`, `1h30m`, `300ms`). */
export class DurationError extends KubeEdgeError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super('KE_INVALID_DURATION', `invalid duration ${JSON.stringify(input)}: ${reason}`, { input });
    this.input = input;
  }
}

/** `path (line N): message`, or the parts that exist. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path !== '' ? p.path : p.line !== undefined ? 'file' : '';
  const line = p.line !== undefined ? ` (line ${p.line})` : '';
  return where !== '' ? `${where}${line}: ${p.message}` : p.message;
}

/** One line per problem (plus the fix hint, if any); no stack trace. */
export function formatConfigProblems(err: ConfigError): string {
  const lines = err.problems.map((p) => `  ${formatProblem(p)}`);
  if (err.fix !== undefined) lines.push(`  fix: ${err.fix}`);
  return lines.join('\n');
}
