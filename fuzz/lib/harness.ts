// The fuzz loop around fast-check: one seeded, time-bounded property per target. A property fails on a crash
// (an exception escaping to the process, the server no longer answering), a hang (an input that outlives its
// per-input timeout) or a wrong answer (5xx where a 4xx is due); fast-check then shrinks the input.
import fc from 'fast-check';

export type Finding = 'crash' | 'hang' | 'wrong-answer';

/** Thrown by a target's check: the input did something a daemon must never do. */
export class FuzzFailure extends Error {
  readonly finding: Finding;
  constructor(finding: Finding, message: string) {
    super(`${finding}: ${message}`);
    this.finding = finding;
  }
}

export type FuzzTarget<T, C> = {
  name: string;
  /** What is exercised, for --list. */
  describe: string;
  setup(): Promise<C>;
  arbitrary(ctx: C): fc.Arbitrary<T>;
  /** Runs one input; throws FuzzFailure (or anything) when the input exposed a fault. */
  check(ctx: C, input: T): Promise<void>;
  teardown(ctx: C): Promise<void>;
};

export type AnyTarget = FuzzTarget<any, any>;

export type TargetResult = {
  name: string;
  seed: number;
  runs: number;
  crashes: number;
  hangs: number;
  wrongAnswers: number;
  /** The shrunk input and the failure, when one was found. */
  counterexample?: string;
  error?: string;
};

/** Exceptions that escaped to the process while a target ran (a daemon would have died of them). */
const escaped: unknown[] = [];
let trapping = false;
function trap(): void {
  if (trapping) return;
  trapping = true;
  process.on('uncaughtException', (err) => escaped.push(err));
  process.on('unhandledRejection', (err) => escaped.push(err));
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FuzzFailure('hang', `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

export async function runTarget(t: AnyTarget, o: { seed: number; ms: number; perInputMs: number; log?: (s: string) => void }): Promise<TargetResult> {
  trap();
  escaped.length = 0;
  const ctx = await t.setup();
  let runs = 0;
  try {
    const property = fc.asyncProperty(t.arbitrary(ctx), async (input: unknown) => {
      runs++;
      await withTimeout(t.check(ctx, input), o.perInputMs);
      // Let timers and sockets run a moment so an exception thrown later by the same input is charged to it.
      await new Promise((r) => setImmediate(r));
      if (escaped.length > 0) {
        const err = escaped.splice(0);
        throw new FuzzFailure('crash', `uncaught exception: ${err.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e))).join('\n')}`);
      }
    });
    const r = await fc.check(property, {
      seed: o.seed,
      numRuns: Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: o.ms,
      markInterruptAsFailure: false,
      endOnFailure: false,
    });
    const res: TargetResult = { name: t.name, seed: o.seed, runs, crashes: 0, hangs: 0, wrongAnswers: 0 };
    if (r.failed) {
      res.counterexample = r.counterexample === null ? '(none)' : fc.stringify(r.counterexample[0]);
      res.error = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
      // One fault per run (fast-check stops at the first and shrinks it; the shrink steps re-run variants of it).
      const kind = r.errorInstance instanceof FuzzFailure ? r.errorInstance.finding : 'crash';
      res.crashes = kind === 'crash' ? 1 : 0;
      res.hangs = kind === 'hang' ? 1 : 0;
      res.wrongAnswers = kind === 'wrong-answer' ? 1 : 0;
    }
    return res;
  } finally {
    await t.teardown(ctx);
  }
}
