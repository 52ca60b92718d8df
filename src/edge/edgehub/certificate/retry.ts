import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../core/log.ts';
import { CLOUD_REJECTED, CLOUD_UNREACHABLE, EdgeCertError } from './errors.ts';

export type RetryOptions = { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/** Network failures and gateway/overload answers are worth another try; a 401 or 400 is not. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof EdgeCertError)) return false;
  if (err.code === CLOUD_UNREACHABLE) return true;
  return err.code === CLOUD_REJECTED && TRANSIENT_STATUS.has(Number(err.context['status']));
}

// A function, so TypeScript does not narrow `aborted` across awaits.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Runs `fn` with exponential backoff on transient failures; bounded, and stops at once when `signal` aborts. */
export async function withRetry<T>(what: string, fn: () => Promise<T>, log: Logger, o: RetryOptions = {}, signal?: AbortSignal): Promise<T> {
  const attempts = Math.max(1, o.attempts ?? 5);
  const base = o.baseDelayMs ?? 1000;
  const max = o.maxDelayMs ?? 30_000;
  for (let i = 1; ; i++) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (isAborted(signal)) throw signal?.reason;
      if (i >= attempts || !isTransient(err)) throw err;
      const delay = Math.min(max, base * 2 ** (i - 1));
      log.warn({ what, attempt: i, attempts, retryInMs: delay, err: (err as Error).message }, 'cloud request failed; retrying');
      try {
        await sleep(delay, undefined, signal === undefined ? {} : { signal });
      } catch (sleepErr) {
        throw isAborted(signal) ? signal?.reason : sleepErr;
      }
    }
  }
}
