import { KubeEdgeError } from '../core/errors.ts';
import type { Cause } from './crd/schema.ts';

/** A Kubernetes `Status` failure: the one error type handlers throw; the router turns it into a response. */
export class ApiError extends KubeEdgeError {
  readonly httpCode: number;
  readonly reason: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(httpCode: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(`KE_APISERVER_${reason.toUpperCase()}`, message, { httpCode, reason, ...(details ?? {}) });
    this.httpCode = httpCode;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.httpCode,
    };
  }
}

/** `kind` in Status details is the plural resource name in the group, as kube-apiserver writes it (`pods`, `leases.coordination.k8s.io`). */
function qualified(resource: string, group: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, {
    name,
    ...(group === '' ? {} : { group }),
    kind: resource,
  });
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
    name,
    ...(group === '' ? {} : { group }),
    kind: resource,
  });
}

export function conflict(resource: string, group: string, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind: resource,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/** `message` is `<field>: <what>`; it becomes the one cause kubectl prints (`The Pod "x" is invalid: <field>: <what>`). */
export function invalid(kind: string, group: string, name: string, message: string): ApiError {
  const i = message.indexOf(': ');
  const field = i > 0 ? message.slice(0, i) : '';
  const what = i > 0 ? message.slice(i + 2) : message;
  const reason = what.startsWith('Required value') ? 'FieldValueRequired' : 'FieldValueInvalid';
  return invalidCauses(kind, group, name, [{ reason, message: what, field }]);
}

/** `Pod`, or `Device.devices.kubeedge.io`: how kube-apiserver names a kind in an Invalid message. */
function qualifiedKind(kind: string, group: string): string {
  return group === '' ? kind : `${kind}.${group}`;
}

/**
 * 422 Invalid with one cause per field, as kube-apiserver sends it; kubectl prints
 * `The Pod "x" is invalid: spec.containers[0].image: Required value` (or a `*` list for several).
 */
export function invalidCauses(kind: string, group: string, name: string, causes: Cause[]): ApiError {
  const text = causes.map((c) => (c.field === '' ? c.message : `${c.field}: ${c.message}`));
  const summary = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind(kind, group)} "${name}" is invalid: ${summary}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes,
  });
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function unsupportedMediaType(ct: string): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${ct})`,
  );
}

export function successStatus(details: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}
