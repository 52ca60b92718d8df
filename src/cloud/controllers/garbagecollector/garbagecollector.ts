import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import { isConflict, isNotFound, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import type { InformerEventType } from '../../common/informers/informer.ts';
import type { InformerView } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult, type Watch } from '../kit/controller.ts';
import { Discovery } from '../kit/discovery.ts';
import { isBeingDeleted, nameOf, namespaceOf, ownerRefsOf, resourcePath, uidOf, type OwnerReference } from '../kit/objects.ts';
import { decide, FOREGROUND_FINALIZER, finalizersOf, ORPHAN_FINALIZER, OwnerGraph, waitsForDependents, type OwnerState } from './graph.ts';

/** The built-in kinds whose objects own or are owned by others here (custom resources are added as their CRDs appear). */
const FOLLOWED: Array<{ apiVersion: string; kind: string; plural: string }> = [
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets' },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { apiVersion: 'apps/v1', kind: 'ControllerRevision', plural: 'controllerrevisions' },
  { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs' },
  { apiVersion: 'batch/v1', kind: 'CronJob', plural: 'cronjobs' },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices' },
];

type Followed = { spec: (typeof FOLLOWED)[number]; informer: InformerView };

/**
 * Kubernetes' garbage collector: deletes objects whose every owner is gone (by uid: an owner of the same name
 * but another uid counts as gone), carries out foreground deletion (dependents first, those blocking their
 * owner waited for, then the `foregroundDeletion` finalizer removed) and orphaning (owner references removed
 * from the dependents, then the `orphan` finalizer). Level-triggered: the first full lists after a restart
 * hold every half-done deletion, so it resumes where it stopped.
 */
export class GarbageCollector {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #graph = new OwnerGraph();
  readonly #followed = new Map<string, Followed>();
  readonly #discovery: Discovery;
  readonly #controller: Controller;

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('garbagecollector-controller');
    this.#discovery = new Discovery(d.kube);
    const watches: Watch[] = [];
    for (const spec of FOLLOWED) {
      const informer = d.informers.informer({ path: resourcePath(spec.apiVersion, spec.plural, ''), kind: spec.kind, apiVersion: spec.apiVersion });
      const f: Followed = { spec, informer };
      this.#followed.set(`${spec.kind}.${spec.apiVersion}`, f);
      watches.push({ informer, keys: (obj, type, old) => this.#onEvent(f, obj, type, old) });
    }
    // Custom resources own and are owned too: each served CRD kind gets its informer when the CRD is seen.
    const crds = d.informers.informer({
      path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      kind: 'CustomResourceDefinition',
      apiVersion: 'apiextensions.k8s.io/v1',
    });
    watches.push({
      informer: crds,
      keys: (crd, type) => {
        if (type !== 'delete') this.#followCrd(d, crd);
        return [];
      },
    });
    this.#controller = new Controller({
      name: 'garbagecollector',
      informers: d.informers,
      watches,
      reconcile: (key) => this.#reconcile(key),
      workers: 4,
      log: this.#log,
    });
    this.module = this.#controller;
  }

  #followCrd(d: ControllerDeps, crd: KubeObject): void {
    const spec = (crd['spec'] ?? {}) as {
      group?: string;
      names?: { kind?: string; plural?: string };
      versions?: Array<{ name?: string; served?: boolean; storage?: boolean }>;
    };
    const served = (spec.versions ?? []).filter((v) => v.served !== false);
    const version = (served.find((v) => v.storage === true) ?? served[0])?.name;
    const kind = spec.names?.kind;
    const plural = spec.names?.plural;
    if (spec.group === undefined || version === undefined || kind === undefined || plural === undefined) return;
    const apiVersion = `${spec.group}/${version}`;
    const id = `${kind}.${apiVersion}`;
    if (this.#followed.has(id)) return;
    const informer = d.informers.informer({ path: resourcePath(apiVersion, plural, ''), kind, apiVersion });
    const f: Followed = { spec: { apiVersion, kind, plural }, informer };
    this.#followed.set(id, f);
    informer.addHandler((type, obj, old) => {
      for (const k of this.#onEvent(f, obj, type, old)) this.#controller.enqueue(k);
    });
  }

  /** Keeps the graph current and names what to look at: the object, its dependents and its owners. */
  #onEvent(f: Followed, obj: KubeObject, type: InformerEventType, old: KubeObject | undefined): string[] {
    const key = keyFor(f.spec.kind, f.spec.apiVersion, namespaceOf(obj), nameOf(obj));
    if (old !== undefined && uidOf(old) !== uidOf(obj)) this.#graph.remove(old);
    if (type === 'delete') this.#graph.remove(obj);
    else this.#graph.set(key, obj);
    const keys = type === 'delete' ? [] : [key];
    // A deleted or deleting owner concerns its dependents; any change of a dependent may free a waiting owner.
    if (type === 'delete' || isBeingDeleted(obj) || (old !== undefined && uidOf(old) !== uidOf(obj))) {
      for (const dep of this.#graph.dependents(uidOf(obj))) keys.push(dep.key);
      if (old !== undefined) for (const dep of this.#graph.dependents(uidOf(old))) keys.push(dep.key);
    }
    for (const r of [...ownerRefsOf(obj), ...(old === undefined ? [] : ownerRefsOf(old))]) {
      const owner = this.#graph.get(r.uid);
      if (owner !== undefined && isBeingDeleted(owner.obj)) keys.push(owner.key);
    }
    return keys;
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { kindVersion, namespace, name } = parseKey(key);
    const f = this.#followed.get(kindVersion);
    const obj = f?.informer.get(namespace, name);
    if (f === undefined || obj === undefined) return undefined;
    if (isBeingDeleted(obj)) {
      const fins = finalizersOf(obj);
      if (fins.includes(ORPHAN_FINALIZER)) await this.#orphan(f, obj);
      else if (fins.includes(FOREGROUND_FINALIZER)) await this.#foreground(f, obj);
      return undefined;
    }
    const refs = ownerRefsOf(obj);
    if (refs.length === 0) return undefined;
    const states = new Map<string, OwnerState>();
    for (const r of refs) states.set(r.uid, await this.#ownerState(r, namespace));
    const decision = decide(obj, states, this.#graph.dependents(uidOf(obj)).length > 0);
    if (decision.action === 'dropRefs') await this.#dropRefs(f, obj, new Set(decision.uids));
    if (decision.action === 'delete') {
      this.#log.info({ key, policy: decision.policy ?? 'default' }, 'deleting object whose owners are gone');
      await this.#delete(f, obj, decision.policy);
    }
    return undefined;
  }

  /**
   * The cache answers for an owner that is there; one that is not is looked up live before anything is
   * deleted (its informer may lag behind the dependent's), and owners of kinds not followed are read live.
   */
  async #ownerState(r: OwnerReference, namespace: string): Promise<OwnerState> {
    const cached = this.#graph.get(r.uid);
    if (cached !== undefined) return waitsForDependents(cached.obj) ? 'waiting' : 'solid';
    const res = await this.#discovery.find(r.apiVersion, r.kind);
    if (res === undefined) {
      this.#log.warn({ owner: r }, 'owner kind not served; dependent kept');
      return 'unknown';
    }
    try {
      const live = await this.#kube.get(resourcePath(r.apiVersion, res.plural, res.namespaced ? namespace : '', r.name));
      if (uidOf(live) !== r.uid) return 'dangling';
      return waitsForDependents(live) ? 'waiting' : 'solid';
    } catch (err) {
      if (isNotFound(err)) return 'dangling';
      throw err;
    }
  }

  async #foreground(f: Followed, owner: KubeObject): Promise<void> {
    const uid = uidOf(owner);
    const deps = this.#graph.dependents(uid);
    let blocking = 0;
    for (const d of deps) {
      const ref = ownerRefsOf(d.obj).find((r) => r.uid === uid);
      const blocks = ref?.blockOwnerDeletion === true;
      if (blocks) blocking++;
      if (isBeingDeleted(d.obj)) continue;
      const df = this.#followedOf(d.key);
      if (df === undefined) continue;
      // A dependent that blocks its owner goes in foreground too, so the chain empties from the leaves up.
      const hasOwn = this.#graph.dependents(uidOf(d.obj)).length > 0;
      await this.#delete(df, d.obj, blocks && hasOwn ? 'Foreground' : 'Background');
    }
    if (blocking === 0) await this.#removeFinalizer(f, owner, FOREGROUND_FINALIZER);
  }

  async #orphan(f: Followed, owner: KubeObject): Promise<void> {
    const uid = uidOf(owner);
    for (const d of this.#graph.dependents(uid)) {
      const df = this.#followedOf(d.key);
      if (df !== undefined) await this.#dropRefs(df, d.obj, new Set([uid]));
    }
    await this.#removeFinalizer(f, owner, ORPHAN_FINALIZER);
  }

  #followedOf(key: string): Followed | undefined {
    return this.#followed.get(parseKey(key).kindVersion);
  }

  #path(f: Followed, obj: KubeObject): string {
    return resourcePath(f.spec.apiVersion, f.spec.plural, namespaceOf(obj), nameOf(obj));
  }

  async #dropRefs(f: Followed, obj: KubeObject, uids: Set<string>): Promise<void> {
    const keep = ownerRefsOf(obj).filter((r) => !uids.has(r.uid));
    await this.#patchMeta(f, obj, { ownerReferences: keep.length === 0 ? null : keep });
  }

  async #removeFinalizer(f: Followed, obj: KubeObject, finalizer: string): Promise<void> {
    const keep = finalizersOf(obj).filter((x) => x !== finalizer);
    await this.#patchMeta(f, obj, { finalizers: keep.length === 0 ? null : keep });
  }

  /** A merge patch guarded by the cached resourceVersion: a conflict means the cache is behind, so retry later. */
  async #patchMeta(f: Followed, obj: KubeObject, meta: Record<string, unknown>): Promise<void> {
    try {
      await this.#kube.patch(this.#path(f, obj), { metadata: { ...meta, resourceVersion: obj.metadata?.resourceVersion } }, 'merge');
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  async #delete(f: Followed, obj: KubeObject, policy: 'Background' | 'Foreground' | undefined): Promise<void> {
    const body = {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { uid: uidOf(obj) },
      ...(policy === undefined ? {} : { propagationPolicy: policy }),
    };
    try {
      await this.#kube.delete(this.#path(f, obj), body);
    } catch (err) {
      // Gone already, or replaced by a namesake (the uid precondition): nothing of ours left to delete.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}

function keyFor(kind: string, apiVersion: string, namespace: string, name: string): string {
  return `${kind}.${apiVersion}|${namespace}/${name}`;
}

function parseKey(key: string): { kindVersion: string; namespace: string; name: string } {
  const bar = key.indexOf('|');
  const rest = key.slice(bar + 1);
  const slash = rest.indexOf('/');
  return { kindVersion: key.slice(0, bar), namespace: rest.slice(0, slash), name: rest.slice(slash + 1) };
}
