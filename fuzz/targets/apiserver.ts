// The embedded API server over loopback HTTPS: paths, query parameters (label/field selectors, watch, paging,
// apply options), content types and bodies (objects, patches of every kind, garbage). A 5xx, a lost answer or
// a server that stops answering /healthz is a finding; 4xx for nonsense is what it must say.
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { logger } from '../../src/core/log.ts';
import { FuzzFailure, type FuzzTarget } from '../lib/harness.ts';
import { rawHttps } from '../lib/http.ts';

type Ctx = { api: RunningApiServer; dir: string; token: string; host: string; port: number; agent: Agent };

const GROUPS = [
  '/api/v1',
  '/apis/apps/v1',
  '/apis/batch/v1',
  '/apis/apiextensions.k8s.io/v1',
  '/apis/rbac.authorization.k8s.io/v1',
  '/apis/coordination.k8s.io/v1',
  '/apis/discovery.k8s.io/v1',
  '/apis/policy/v1',
  '/apis/devices.kubeedge.io/v1beta1',
  '/apis/authorization.k8s.io/v1',
  '/apis/authentication.k8s.io/v1',
  '/apis/certificates.k8s.io/v1',
  '/apis/events.k8s.io/v1',
];
const RESOURCES = [
  'pods',
  'configmaps',
  'secrets',
  'services',
  'endpoints',
  'nodes',
  'namespaces',
  'events',
  'serviceaccounts',
  'deployments',
  'replicasets',
  'daemonsets',
  'statefulsets',
  'jobs',
  'cronjobs',
  'leases',
  'endpointslices',
  'customresourcedefinitions',
  'roles',
  'clusterroles',
  'rolebindings',
  'devices',
  'devicemodels',
  'poddisruptionbudgets',
  'selfsubjectaccessreviews',
  'subjectaccessreviews',
  'tokenreviews',
  'selfsubjectreviews',
  'certificatesigningrequests',
];
const SUBS = ['status', 'scale', 'binding', 'eviction', 'token', 'log', 'exec', 'proxy', 'approval', 'ephemeralcontainers', 'finalize'];
const NAMES = ['p1', 'cm1', 'd1', 'fz', 'default', 'kube-system', 'n1', 'sa1', '', '..', '%2F', '%00', 'UPPER', 'a'.repeat(300)];
const TYPES = [
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/yaml',
  'application/vnd.kubernetes.protobuf',
  'text/plain',
  '',
];

const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 8, unit: 'binary-ascii' }),
  },
);

/** Paths that route: a known collection or object, often one that exists (so patches and deletes do work). */
const REAL: [string, string | undefined, string, string[]][] = [
  ['/api/v1', 'fz', 'pods', ['p1', 'p2']],
  ['/api/v1', 'fz', 'configmaps', ['cm1', 'cm2']],
  ['/api/v1', 'fz', 'secrets', ['s1']],
  ['/api/v1', 'fz', 'services', ['svc1']],
  ['/api/v1', 'fz', 'serviceaccounts', ['default', 'sa1']],
  ['/api/v1', undefined, 'namespaces', ['fz', 'default', 'gone']],
  ['/api/v1', undefined, 'nodes', ['n1']],
  ['/apis/apps/v1', 'fz', 'deployments', ['d1']],
  ['/apis/apps/v1', 'fz', 'replicasets', ['rs1']],
  ['/apis/apps/v1', 'fz', 'statefulsets', ['ss1']],
  ['/apis/apps/v1', 'fz', 'daemonsets', ['ds1']],
  ['/apis/batch/v1', 'fz', 'jobs', ['j1']],
  ['/apis/batch/v1', 'fz', 'cronjobs', ['cj1']],
  ['/apis/coordination.k8s.io/v1', 'kube-node-lease', 'leases', ['n1']],
  ['/apis/discovery.k8s.io/v1', 'fz', 'endpointslices', ['es1']],
  ['/apis/policy/v1', 'fz', 'poddisruptionbudgets', ['pdb1']],
  ['/apis/rbac.authorization.k8s.io/v1', 'fz', 'roles', ['r1']],
  ['/apis/rbac.authorization.k8s.io/v1', undefined, 'clusterroles', ['cr1']],
  ['/apis/apiextensions.k8s.io/v1', undefined, 'customresourcedefinitions', ['widgets.fz.io']],
  ['/apis/fz.io/v1', 'fz', 'widgets', ['w1']],
  ['/apis/devices.kubeedge.io/v1beta1', 'fz', 'devices', ['dev1']],
];
const realPath = fc
  .tuple(
    fc.constantFrom(...REAL),
    fc.nat(),
    fc.boolean(),
    fc.option(fc.constantFrom('status', 'scale', 'binding', 'eviction', 'token', 'approval', 'finalize'), { nil: undefined }),
    fc.boolean(),
  )
  .map(([[g, ns, res, names], pick, named, sub, allNs]) => {
    const prefix = ns !== undefined && !(allNs && !named) ? `${g}/namespaces/${ns}/${res}` : `${g}/${res}`;
    if (!named) return prefix;
    return `${prefix}/${names[pick % names.length]}${sub !== undefined ? `/${sub}` : ''}`;
  });

const apiPath = fc.oneof(
  { weight: 10, arbitrary: realPath },
  {
    weight: 8,
    arbitrary: fc
      .record({
        group: fc.constantFrom(...GROUPS),
        ns: fc.option(segment, { nil: undefined }),
        resource: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...RESOURCES) }, { weight: 1, arbitrary: segment }),
        name: fc.option(segment, { nil: undefined }),
        sub: fc.option(fc.oneof(fc.constantFrom(...SUBS), segment), { nil: undefined }),
        extra: fc.array(segment, { maxLength: 2 }),
      })
      .map(
        (p) =>
          `${p.group}${p.ns !== undefined ? `/namespaces/${p.ns}` : ''}/${p.resource}${p.name !== undefined ? `/${p.name}` : ''}${p.name !== undefined && p.sub !== undefined ? `/${p.sub}` : ''}${p.extra.map((e) => `/${e}`).join('')}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/api',
      '/apis',
      '/openapi/v2',
      '/openapi/v3',
      '/openapi/v3/api/v1',
      '/version',
      '/healthz',
      '/readyz',
      '/livez',
      '/metrics',
      '/',
    ),
  },
  { weight: 1, arbitrary: fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`) },
);

const selector = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('app', 'tier', 'metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'a/b', 'x.io/y'),
        fc.string({ maxLength: 6 }),
      ),
      fc.constantFrom('=', '==', '!=', ' in ', ' notin ', '', '!', '>', '<'),
      fc.oneof(fc.constantFrom('web', '(a,b)', '(', ')', '', 'Running', 'p1'), fc.string({ maxLength: 6 })),
    ),
    { maxLength: 3 },
  )
  .map((parts) => parts.map(([k, op, v]) => `${k}${op}${v}`).join(fc.sample(fc.constantFrom(','), 1)[0] ?? ','));

const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', '1', '0', '-1', '', 'All', 'NotOlderThan', 'Exact', 'Strict', 'Warn', 'Ignore', '99999999999999999999', 'abc'),
  fc.string({ maxLength: 10 }),
);
const PARAMS = [
  'watch',
  'resourceVersion',
  'resourceVersionMatch',
  'timeoutSeconds',
  'limit',
  'continue',
  'fieldManager',
  'dryRun',
  'force',
  'propagationPolicy',
  'gracePeriodSeconds',
  'allowWatchBookmarks',
  'sendInitialEvents',
  'fieldValidation',
  'pretty',
  'orphanDependents',
  'container',
  'follow',
  'tailLines',
  'as',
];
const query = fc
  .record({
    labelSelector: fc.option(selector, { nil: undefined }),
    fieldSelector: fc.option(selector, { nil: undefined }),
    params: fc.array(fc.tuple(fc.constantFrom(...PARAMS), queryValue), { maxLength: 4 }),
  })
  .map((q) => {
    const sp = new URLSearchParams();
    if (q.labelSelector !== undefined) sp.append('labelSelector', q.labelSelector);
    if (q.fieldSelector !== undefined) sp.append('fieldSelector', q.fieldSelector);
    for (const [k, v] of q.params) sp.append(k, v);
    const s = sp.toString();
    return s === '' ? '' : `?${s}`;
  });

const json = fc.jsonValue({ maxDepth: 4 });
const kubeObject = fc.record(
  {
    apiVersion: fc.constantFrom('v1', 'apps/v1', 'batch/v1', 'x/y', ''),
    kind: fc.constantFrom('Pod', 'ConfigMap', 'Deployment', 'Namespace', 'Node', 'Secret', 'Job', 'Nope'),
    metadata: fc.record(
      {
        name: fc.constantFrom(...NAMES),
        namespace: fc.constantFrom('fz', 'default', 'other', ''),
        labels: fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 2 }),
        resourceVersion: fc.oneof(fc.constantFrom('1', '0', 'x', ''), fc.nat().map(String)),
        finalizers: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }),
        ownerReferences: json,
        generateName: fc.string({ maxLength: 5 }),
        deletionTimestamp: fc.constantFrom('2020-01-01T00:00:00Z', 'x'),
        managedFields: json,
      },
      { requiredKeys: [] },
    ),
    spec: json,
    data: json,
    status: json,
  },
  { requiredKeys: [] },
);
const jsonPatch = fc.array(
  fc.record(
    {
      op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
      path: fc.oneof(
        fc.constantFrom('/metadata/labels/a', '/spec/containers/0/image', '/data/x', '/metadata', '', '/', '/-', '/spec/containers/-', '/a~1b', '/~2'),
        fc.string({ maxLength: 10 }),
      ),
      from: fc.constantFrom('/metadata/labels', '/data', '/nope'),
      value: json,
    },
    { requiredKeys: ['op'] },
  ),
  { maxLength: 4 },
);
const smpDirectives = fc.record(
  {
    metadata: fc.record({ labels: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.constant(null))) }, { requiredKeys: [] }),
    spec: fc.record(
      {
        containers: fc.array(
          fc.record({ name: fc.string({ maxLength: 4 }), image: json, $patch: fc.constantFrom('delete', 'replace', 'merge', 'bogus') }, { requiredKeys: [] }),
          { maxLength: 2 },
        ),
        '$setElementOrder/containers': json,
        $retainKeys: json,
        '$deleteFromPrimitiveList/finalizers': json,
      },
      { requiredKeys: [] },
    ),
    $patch: fc.constantFrom('delete', 'replace', 'bogus'),
  },
  { requiredKeys: [] },
);
/** An object close to valid for the collections above, with one field replaced by anything. */
const nearValid = fc
  .tuple(
    fc.constantFrom(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p2', labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] },
      },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm2' }, data: { k: 'v' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, type: 'Opaque', data: { k: 'dg==' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc1' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } },
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd1' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
        },
      },
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'j1' },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
      },
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'cj1' },
        spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'b' }] } } } } },
      },
      { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p1', namespace: 'fz' } },
      { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'n1' } },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['x'], expirationSeconds: 600 } },
      { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd1' }, spec: { replicas: 2 } },
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.fz.io' },
        spec: {
          group: 'fz.io',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          scope: 'Namespaced',
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 0 } } } } } },
            },
          ],
        },
      },
      { apiVersion: 'fz.io/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } },
    ),
    fc.array(
      fc.tuple(fc.constantFrom('metadata', 'spec', 'status', 'data', 'kind', 'apiVersion', 'type', 'target', 'replicas', 'containers', 'name', 'labels'), json),
      { maxLength: 2 },
    ),
  )
  .map(([obj, edits]) => {
    const o = structuredClone(obj) as Record<string, unknown>;
    for (const [k, v] of edits) {
      const holder = k in o ? o : typeof o['spec'] === 'object' && o['spec'] !== null ? (o['spec'] as Record<string, unknown>) : o;
      holder[k] = v;
    }
    return JSON.stringify(o);
  });

const body = fc.oneof(
  { weight: 6, arbitrary: nearValid },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: kubeObject.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: jsonPatch.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: smpDirectives.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: json.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60, unit: 'binary' }) },
  { weight: 1, arbitrary: kubeObject.map((o) => JSON.stringify(o)).chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))) },
);

export type ApiInput = { method: string; path: string; query: string; type: string; body: string | undefined; auth: 'admin' | 'none' | 'bad' };

export const apiserver: FuzzTarget<ApiInput, Ctx> = {
  name: 'apiserver',
  describe: 'embedded API server: paths, selectors, watch/paging/apply parameters, bodies and patches (json/merge/strategic/apply)',
  async setup() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-fuzz-api-'));
    const log = logger('fuzz-apiserver');
    log.level = process.env['FUZZ_LOG'] ?? 'silent';
    const api = await startApiServer({ address: '127.0.0.1', port: 0, dataDir: path.join(dir, 'data'), adminKubeConfig: path.join(dir, 'admin.conf'), log });
    const token = readFileSync(path.join(dir, 'data', 'apiserver-admin.token'), 'utf8').trim();
    const u = new URL(api.url);
    const ctx: Ctx = {
      api,
      dir,
      token,
      host: u.hostname,
      port: Number(u.port), // A fresh connection per request: a reused keep-alive socket the server just closed is a client-side race.
      agent: new Agent({ keepAlive: false, maxSockets: 4 }),
    };
    // Objects for the requests to find: a namespace, a pod, a configmap, a deployment.
    const seed = async (p: string, obj: unknown) => {
      await rawHttps(
        { ...ctx, ca: api.caPem, agent: ctx.agent },
        'POST',
        p,
        { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        JSON.stringify(obj),
      );
    };
    await seed('/api/v1/namespaces', { metadata: { name: 'fz' } });
    await seed('/api/v1/namespaces/fz/configmaps', { metadata: { name: 'cm1', labels: { app: 'web' } }, data: { a: 'b' } });
    await seed('/api/v1/namespaces/fz/pods', { metadata: { name: 'p1', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await seed('/apis/apps/v1/namespaces/fz/deployments', {
      metadata: { name: 'd1' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    return ctx;
  },
  arbitrary() {
    return fc.record({
      method: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'PATCH', 'PATCH', 'DELETE'),
      path: apiPath,
      query,
      type: fc.constantFrom(...TYPES),
      body,
      auth: fc.oneof({ weight: 12, arbitrary: fc.constant('admin' as const) }, { weight: 1, arbitrary: fc.constantFrom('none' as const, 'bad' as const) }),
    });
  },
  async check(ctx, i) {
    const headers: Record<string, string> = {};
    if (i.type !== '') headers['Content-Type'] = i.type;
    if (i.auth === 'admin') headers['Authorization'] = `Bearer ${ctx.token}`;
    if (i.auth === 'bad') headers['Authorization'] = 'Bearer not-a-token';
    const conn = { host: ctx.host, port: ctx.port, ca: ctx.api.caPem, agent: ctx.agent };
    let r: { status: number; body: string };
    try {
      r = await rawHttps(conn, i.method, `${i.path}${i.query}`, headers, i.body);
    } catch (err) {
      // Node's own client refuses some paths before sending (invalid characters): not the server's fault.
      if ((err as NodeJS.ErrnoException).code === 'ERR_UNESCAPED_CHARACTERS' || (err as NodeJS.ErrnoException).code === 'ERR_INVALID_CHAR') return;
      throw new FuzzFailure('crash', `no answer: ${(err as Error).message}`);
    }
    // kube-apiserver's own answer to a resourceVersion from the future: 504 Timeout, ResourceVersionTooLarge.
    const tooLarge = r.status === 504 && r.body.includes('"ResourceVersionTooLarge"');
    if (r.status >= 500 && !tooLarge) throw new FuzzFailure('wrong-answer', `${i.method} ${i.path}${i.query} -> ${r.status} ${r.body.slice(0, 300)}`);
    const h = await rawHttps(conn, 'GET', '/healthz', {}, undefined);
    if (h.status !== 200) throw new FuzzFailure('crash', `server stopped answering /healthz (${h.status})`);
  },
  async teardown(ctx) {
    ctx.agent.destroy();
    await ctx.api.close();
    rmSync(ctx.dir, { recursive: true, force: true });
  },
};
