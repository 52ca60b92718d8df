import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import { isConflict, isNotFound, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import type { InformerView } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { Discovery, type ServedResource } from '../kit/discovery.ts';
import { isBeingDeleted, nameOf, namespaceOf, resourcePath } from '../kit/objects.ts';
import { conditionsChanged, namespaceConditions, type Sweep } from './conditions.ts';

/** The finalizer of spec.finalizers the namespace controller owns: removed once the namespace is empty. */
export const KUBERNETES_FINALIZER = 'kubernetes';
/** How soon to look again while content is still going (pods in their grace period, objects with finalizers). */
const RECHECK_MS = 1000;

/**
 * Kubernetes' namespace controller: a Terminating namespace has every namespaced object of every served
 * resource (custom resources included, found through discovery) deleted, pods within their grace periods
 * (the edge stops the containers, then the pod goes), and objects' own finalizers waited for; its conditions
 * say what is left; once nothing is, `namespaces/NAME/finalize` takes `kubernetes` out of spec.finalizers and
 * the API server removes the namespace.
 */
export class NamespaceController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #namespaces: InformerView;
  readonly #discovery: Discovery;

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('namespace-controller');
    this.#discovery = new Discovery(d.kube, 5000);
    this.#namespaces = d.informers.informer({ path: '/api/v1/namespaces', kind: 'Namespace', apiVersion: 'v1' });
    this.module = new Controller({
      name: 'namespace',
      informers: d.informers,
      watches: [
        { informer: this.#namespaces, keys: (ns, type) => (type === 'delete' ? [] : [`/${nameOf(ns)}`]) },
        // a pod going from a terminating namespace may be the last thing it waits for
        { informer: d.informers.pods, keys: (pod, type) => (type === 'delete' && this.#terminating(namespaceOf(pod)) ? [`/${namespaceOf(pod)}`] : []) },
      ],
      reconcile: (key) => this.#reconcile(key.slice(1)),
      log: this.#log,
    });
  }

  #terminating(namespace: string): boolean {
    const ns = this.#namespaces.get('', namespace);
    return ns !== undefined && isBeingDeleted(ns);
  }

  async #reconcile(name: string): Promise<ReconcileResult> {
    const ns = this.#namespaces.get('', name);
    if (ns === undefined || !isBeingDeleted(ns)) return undefined;
    const specFinalizers = ((ns['spec'] as { finalizers?: string[] } | undefined)?.finalizers ?? []).map(String);
    if (!specFinalizers.includes(KUBERNETES_FINALIZER)) return undefined;
    const sweep = await this.#sweep(name);
    const conditions = namespaceConditions(sweep, (ns['status'] as { conditions?: unknown[] } | undefined)?.conditions);
    if (conditionsChanged(ns, conditions)) {
      try {
        await this.#kube.replace(`${resourcePath('v1', 'namespaces', '', name)}/status`, { ...ns, status: { ...(ns['status'] as object), conditions } });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        if (!isConflict(err)) throw err;
      }
    }
    if (sweep.failures.length > 0 || sweep.discoveryError !== undefined || sweep.remaining.size > 0) return { requeueAfterMs: RECHECK_MS };
    try {
      await this.#kube.replace(`${resourcePath('v1', 'namespaces', '', name)}/finalize`, {
        ...ns,
        spec: { ...(ns['spec'] as object), finalizers: specFinalizers.filter((f) => f !== KUBERNETES_FINALIZER) },
      });
      this.#log.info({ namespace: name }, 'namespace emptied and finalized');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (isConflict(err)) return { requeueAfterMs: RECHECK_MS };
      throw err;
    }
    return undefined;
  }

  /** Deletes what is left in `namespace` and reports what still is (and the finalizers holding it). */
  async #sweep(namespace: string): Promise<Sweep> {
    const sweep: Sweep = { remaining: new Map(), finalizers: new Map(), failures: [] };
    let resources: ServedResource[];
    try {
      resources = (await this.#discovery.resources()).filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
    } catch (err) {
      sweep.discoveryError = err instanceof Error ? err.message : String(err);
      return sweep;
    }
    for (const r of resources) {
      const collection = resourcePath(r.apiVersion, r.plural, namespace);
      const label = `${r.plural}.${r.apiVersion.includes('/') ? r.apiVersion.slice(0, r.apiVersion.indexOf('/')) : ''}`;
      try {
        let items = (await this.#kube.get<{ items?: KubeObject[] }>(collection)).items ?? [];
        if (items.length === 0) continue;
        const pending = items.filter((o) => !isBeingDeleted(o));
        if (pending.length > 0 && r.verbs.includes('deletecollection'))
          await this.#kube.delete(collection, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
        else for (const o of pending) await this.#deleteOne(`${collection}/${encodeURIComponent(nameOf(o))}`);
        items = (await this.#kube.get<{ items?: KubeObject[] }>(collection)).items ?? [];
        if (items.length === 0) continue;
        sweep.remaining.set(label, items.length);
        for (const o of items) {
          for (const f of (o.metadata?.['finalizers'] as string[] | undefined) ?? []) sweep.finalizers.set(f, (sweep.finalizers.get(f) ?? 0) + 1);
        }
      } catch (err) {
        if (isNotFound(err)) continue; // the resource went away meanwhile (CRD deleted)
        sweep.failures.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return sweep;
  }

  async #deleteOne(path: string): Promise<void> {
    try {
      await this.#kube.delete(path, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
