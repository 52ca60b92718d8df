import { createHash } from 'node:crypto';
import { RESOURCES, groupVersions } from './resources.ts';

/**
 * A minimal OpenAPI v3 document per group/version: only PATCH operations with their GVK and query parameters.
 * That is what kubectl reads to decide that the server validates fields itself (`fieldValidation`), so it
 * skips client-side validation (which would need the protobuf OpenAPI v2). The PATCH bodies deliberately do
 * not list strategic merge, so `kubectl apply` computes its patch from its compiled-in types, not from here.
 */
function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
}));

export function openApiGroupVersion(group: string, version: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of defs) {
    const base = `/${gvPath(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    for (const sub of ['', ...r.subresources.map((s) => `/${s}`)]) {
      paths[`${base}${sub}`] = {
        patch: {
          operationId: `patch${r.kind}${sub === '' ? '' : 'Status'}`,
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': { group, version, kind: r.kind },
          parameters: QUERY_PARAMS,
          requestBody: {
            content: {
              'application/json-patch+json': { schema: { type: 'object' } },
              'application/merge-patch+json': { schema: { type: 'object' } },
              'application/apply-patch+yaml': { schema: { type: 'object' } },
            },
            required: true,
          },
          responses: { '200': { description: 'OK' } },
        },
      };
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.10' }, paths, components: { schemas: {} } };
}

let indexCache: Record<string, unknown> | undefined;

export function openApiIndex(): Record<string, unknown> {
  if (indexCache !== undefined) return indexCache;
  const paths: Record<string, unknown> = {};
  for (const gv of groupVersions()) {
    const hash = createHash('sha256')
      .update(JSON.stringify(openApiGroupVersion(gv.group, gv.version)))
      .digest('hex')
      .slice(0, 32)
      .toUpperCase();
    paths[gvPath(gv.group, gv.version)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv.group, gv.version)}?hash=${hash}` };
  }
  indexCache = { paths };
  return indexCache;
}

/** Resolves `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`. */
export function openApiForPath(rest: string): Record<string, unknown> | undefined {
  const segs = rest.split('/').filter((s) => s !== '');
  if (segs[0] === 'api' && segs.length === 2) return openApiGroupVersion('', segs[1] ?? '');
  if (segs[0] === 'apis' && segs.length === 3) return openApiGroupVersion(segs[1] ?? '', segs[2] ?? '');
  return undefined;
}
