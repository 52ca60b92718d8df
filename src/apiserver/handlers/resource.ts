import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../engine.ts';
import { serverSideApply } from '../apply/apply.ts';
import { updateMetaOf, type WriteMeta } from '../apply/managed.ts';
import { listPage, listQueryOf } from '../paging.ts';
import { applyPatch, patchTypeOf } from '../patch.ts';
import { apiVersionOf, storageKey, type ResourceDef } from '../resources.ts';
import { parseFieldSelector, parseLabelSelector } from '../selectors.ts';
import { badRequest, methodNotAllowed, notFound, successStatus, unsupportedMediaType, conflict } from '../status.ts';
import type { KObj } from '../store.ts';
import { includeObjectOf, toTable, wantsTable } from '../tables.ts';
import { presentAs } from '../crd/registry.ts';
import { handleScale } from '../crd/scale.ts';
import { JOB_ORPHAN_WARNING, warnsOnDelete } from '../deletion.ts';
import { handleWorkloadRequest } from '../workloads/handlers.ts';
import { addWarning } from '../validation/errors.ts';
import { writeOptions } from '../validation/options.ts';
import { sendJson } from './http.ts';
import { serveWatch } from './watch.ts';
import { isObj } from '../kobj.ts';

export type ResourceRequest = {
  req: IncomingMessage;
  res: ServerResponse;
  engine: Engine;
  def: ResourceDef;
  namespace?: string;
  name?: string;
  sub?: string;
  watchPath: boolean;
  query: URLSearchParams;
  body: unknown;
};

function dryRun(q: URLSearchParams): boolean {
  return q.getAll('dryRun').includes('All');
}

function partialMetadata(accept: string | undefined): boolean {
  return accept !== undefined && /as=PartialObjectMetadata/.test(accept);
}

function asPartial(o: KObj): KObj {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o['metadata'] };
}

/** Sends one object, as a Table or PartialObjectMetadata when the client asked for that. */
function sendObject(r: ResourceRequest, code: number, o: KObj): void {
  const accept = r.req.headers.accept;
  if (wantsTable(accept)) sendJson(r.res, code, toTable(r.def, [o], includeObjectOf(r.query), String(o['metadata']?.['resourceVersion'] ?? '')));
  else if (partialMetadata(accept)) sendJson(r.res, code, asPartial(o));
  else sendJson(r.res, code, o);
}

/** Who a non-apply write is recorded for in managedFields. */
function updateMeta(r: ResourceRequest): WriteMeta {
  return updateMetaOf(r.query, r.req.headers['user-agent'], r.sub);
}

/** The request's label and field selectors as one test, undefined when it has neither. */
function selectorOf(r: ResourceRequest): ((o: KObj) => boolean) | undefined {
  if (!r.query.has('labelSelector') && !r.query.has('fieldSelector')) return undefined;
  const ls = parseLabelSelector(r.query.get('labelSelector'));
  const fs = parseFieldSelector(r.query.get('fieldSelector'), r.def);
  return (o) => ls(o) && fs(o);
}

function listFiltered(r: ResourceRequest): KObj[] {
  const items = r.engine.list(r.def, r.namespace);
  const matches = selectorOf(r);
  return matches === undefined ? items : items.filter(matches);
}

export function handleResource(r: ResourceRequest): void {
  const { req, def, query } = r;
  const method = req.method ?? 'GET';
  if (r.sub !== undefined && r.name === undefined) throw notFound(def.plural, def.group, '');
  if (def.crd?.deprecationWarning !== undefined) addWarning(r.res, def.crd.deprecationWarning);
  if (r.sub === 'scale' && r.name !== undefined && (def.crd?.scale !== undefined || def.crd === undefined)) return handleScale(r);
  if (handleWorkloadRequest(r)) return;
  if (
    r.namespace !== undefined &&
    r.namespace !== '' &&
    def.namespaced &&
    method !== 'GET' &&
    r.name === undefined &&
    method !== 'POST' &&
    method !== 'DELETE'
  ) {
    throw methodNotAllowed();
  }
  const isWatch = r.watchPath || query.get('watch') === 'true' || query.get('watch') === '1';
  if (r.name === undefined) {
    switch (method) {
      case 'GET':
        if (isWatch) {
          // Selectors are checked up front so a bad one is a 400, not a broken stream.
          parseLabelSelector(query.get('labelSelector'));
          parseFieldSelector(query.get('fieldSelector'), def);
          serveWatch(r);
          return;
        }
        return sendList(r);
      case 'POST': {
        if (def.namespaced && r.namespace === undefined) throw methodNotAllowed();
        const created = r.engine.create(def, r.namespace, r.body, dryRun(query), writeOptions(r), updateMeta(r));
        return sendObject(r, 201, created);
      }
      case 'DELETE': {
        if (def.namespaced && r.namespace === undefined) throw methodNotAllowed();
        const items = listFiltered(r);
        const opts = deleteOptionsOf(r);
        const out: KObj[] = [];
        for (const o of items) out.push(r.engine.delete(def, r.namespace, String(o['metadata']?.['name']), opts, dryRun(query)).object);
        return sendJson(r.res, 200, {
          kind: `${def.kind}List`,
          apiVersion: apiVersionOf(def),
          metadata: { resourceVersion: String(r.engine.store.currentRv) },
          items: out,
        });
      }
      default:
        throw methodNotAllowed();
    }
  }
  if (def.namespaced && r.namespace === undefined) throw notFound(def.plural, def.group, r.name);
  const name = r.name;
  switch (method) {
    case 'GET':
      if (isWatch) {
        r.query.set('fieldSelector', `metadata.name=${name}`);
        delete r.name;
        serveWatch(r);
        return;
      }
      return sendObject(r, 200, r.engine.get(def, r.namespace, name));
    case 'PUT': {
      const updated = r.engine.update(def, r.namespace, name, r.body, r.sub, dryRun(query), writeOptions(r), updateMeta(r));
      return sendObject(r, 200, updated);
    }
    case 'PATCH':
      return sendObject(r, 200, patch(r, name));
    case 'DELETE': {
      if (r.sub !== undefined) throw methodNotAllowed();
      const opts = deleteOptionsOf(r);
      const { object, removed } = r.engine.delete(def, r.namespace, name, opts, dryRun(query));
      if (removed && def.returnDeletedObject !== true) {
        return sendJson(
          r.res,
          200,
          successStatus({ name, ...(def.group === '' ? {} : { group: def.group }), kind: def.plural, uid: object['metadata']?.['uid'] }),
        );
      }
      return sendObject(r, 200, object);
    }
    default:
      throw methodNotAllowed();
  }
}

/** DeleteOptions from the body, with the query parameters kube-apiserver also reads them from. */
function deleteOptionsOf(r: ResourceRequest): KObj {
  const opts: KObj = isObj(r.body) ? r.body : {};
  const q = r.query;
  if (q.has('gracePeriodSeconds')) opts['gracePeriodSeconds'] = Number(q.get('gracePeriodSeconds'));
  if (q.has('propagationPolicy')) opts['propagationPolicy'] = q.get('propagationPolicy');
  if (q.has('orphanDependents')) opts['orphanDependents'] = q.get('orphanDependents') === 'true';
  if (warnsOnDelete(r.def, opts)) addWarning(r.res, JOB_ORPHAN_WARNING);
  return opts;
}

function sendList(r: ResourceRequest): void {
  const ns = r.def.namespaced ? r.namespace : undefined;
  const page = listPage(r.engine.store, storageKey(r.def), ns, listQueryOf(r.query), selectorOf(r));
  const { meta } = page;
  // listPage reads the store; objects of a CRD kind are shown in the version that was asked for, as GET and watch show them.
  const items = r.def.crd === undefined ? page.items : page.items.map((o) => presentAs(r.def, o));
  const accept = r.req.headers.accept;
  if (wantsTable(accept)) {
    const table = toTable(r.def, items, includeObjectOf(r.query), meta.resourceVersion);
    return sendJson(r.res, 200, { ...table, metadata: meta });
  }
  if (partialMetadata(accept)) {
    return sendJson(r.res, 200, {
      kind: 'PartialObjectMetadataList',
      apiVersion: 'meta.k8s.io/v1',
      metadata: meta,
      items: items.map(asPartial),
    });
  }
  sendJson(r.res, 200, { kind: `${r.def.kind}List`, apiVersion: apiVersionOf(r.def), metadata: meta, items });
}

function patch(r: ResourceRequest, name: string): KObj {
  const type = patchTypeOf(r.req.headers['content-type']);
  if (type === undefined) throw unsupportedMediaType(String(r.req.headers['content-type'] ?? ''));
  if (r.body === undefined) throw badRequest('a patch body is required');
  if (type === 'apply') return serverSideApply({ ...r, name, write: writeOptions(r) });
  const cur = r.engine.get(r.def, r.namespace, name);
  const patched = applyPatch(type, cur, r.body);
  const want = patched['metadata']?.['resourceVersion'];
  if (want !== undefined && want !== cur['metadata']?.['resourceVersion']) {
    throw conflict(r.def.plural, r.def.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
  }
  return r.engine.update(r.def, r.namespace, name, patched, r.sub, dryRun(r.query), writeOptions(r), updateMeta(r));
}
