import { KubeEdgeError } from '../core/errors.ts';
import { KubeApiError } from './rest.ts';

/** Socket-level failures: the API server is down, restarting, or the connection died under a request. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
const TRANSIENT_MESSAGES = /^(fetch failed|terminated|socket hang up|other side closed)$|Client network socket disconnected/;

/**
 * Whether `err` says the API server could not be reached (or answered 5xx / 429), as opposed to a refusal that
 * retrying will not change (403, 404, 422...). Looks through `cause` chains: client libraries wrap the socket
 * error (undici's `TypeError: fetch failed` carries the ECONNREFUSED as its cause; our stores wrap that again).
 */
export function isTransientApiError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof KubeApiError) return e.statusCode >= 500 || e.statusCode === 429;
    if (e instanceof KubeEdgeError && e.code === 'KE_KUBE_TIMEOUT') return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    const statusCode = (e as { statusCode?: unknown; code?: unknown }).statusCode ?? (typeof code === 'number' ? code : undefined);
    if (typeof statusCode === 'number' && (statusCode >= 500 || statusCode === 429)) return true;
    if (e instanceof Error && TRANSIENT_MESSAGES.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
