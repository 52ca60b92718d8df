import { KubeEdgeError } from '../../../core/errors.ts';

/** Certificate bootstrap failures; `code` tells the operator which knob to turn. */
export class EdgeCertError extends KubeEdgeError {
  constructor(code: string, message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(code, message, context, cause === undefined ? {} : { cause });
  }
}

export const TOKEN_MISSING = 'KE_EDGE_TOKEN_MISSING';
export const TOKEN_MALFORMED = 'KE_EDGE_TOKEN_MALFORMED';
export const TOKEN_CA_MISMATCH = 'KE_EDGE_TOKEN_CA_MISMATCH';
/** The cloud answered 401/403 to the enrolment: a wrong or expired token. */
export const TOKEN_REFUSED = 'KE_EDGE_TOKEN_REFUSED';
/** The cloud answered with an HTTP error (401 bad/expired token, 400 bad CSR, ...). Not retried. */
export const CLOUD_REJECTED = 'KE_EDGE_CERT_REJECTED';
/** The cloud could not be reached (after retries) or sent something unusable. */
export const CLOUD_UNREACHABLE = 'KE_EDGE_CERT_UNREACHABLE';
export const BAD_CLOUD_REPLY = 'KE_EDGE_CERT_BAD_REPLY';
