import { KubeEdgeError } from '../../core/errors.ts';

/** ok: fine; warn: works but worth knowing; fail: something will break (start-up stops, doctor exits 1). */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export type CheckResult = {
  /** Short name of what was checked, e.g. "engine socket". */
  name: string;
  status: CheckStatus;
  /** What was found, naming the path/interface/port concerned. */
  detail: string;
  /** What to do about it (warn/fail only). */
  fix?: string;
};

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** One line per check: `FAIL engine socket: ... (fix: ...)`. */
export function formatCheck(r: CheckResult): string {
  return `${LABEL[r.status]} ${r.name}: ${r.detail}${r.fix !== undefined && r.status !== 'ok' ? ` (fix: ${r.fix})` : ''}`;
}

export function failures(results: readonly CheckResult[]): CheckResult[] {
  return results.filter((r) => r.status === 'fail');
}

/** Thrown by edgecore's start-up checks; the message holds one line per failed check. */
export class EnvironmentCheckError extends KubeEdgeError {
  readonly results: readonly CheckResult[];
  constructor(failed: readonly CheckResult[]) {
    super(
      'KE_ENVIRONMENT',
      `environment checks failed (set CHECK_EDGECORE_ENVIRONMENT=false to skip them):\n${failed.map((r) => `  ${formatCheck(r)}`).join('\n')}`,
      { failed: failed.map((r) => r.name) },
    );
    this.results = failed;
  }
}
