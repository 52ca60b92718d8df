import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import { isAlreadyExists, isConflict, isNotFound, paths, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import type { InformerView } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { keyOf, labelsOf, splitKey } from '../kit/objects.ts';
import { isHeadless, selectorOf, servicesSelecting } from '../kit/services.ts';
import { desiredSubsets, sameSubsets } from './subsets.ts';

const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/**
 * Kubernetes' endpoint controller: the core/v1 Endpoints of every Service with a selector, from the pods it
 * selects (ready ones in addresses, the others in notReadyAddresses), written only when they change.
 */
export class EndpointController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #services: InformerView;
  readonly #endpoints: InformerView;
  readonly #pods: InformerView;

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('endpoint-controller');
    this.#services = d.informers.informer({ path: '/api/v1/services', kind: 'Service', apiVersion: 'v1' });
    this.#endpoints = d.informers.informer({ path: '/api/v1/endpoints', kind: 'Endpoints', apiVersion: 'v1' });
    this.#pods = d.informers.pods;
    this.module = new Controller({
      name: 'endpoint',
      informers: d.informers,
      watches: [
        { informer: this.#services },
        { informer: this.#pods, keys: (pod, _t, old) => servicesSelecting(this.#services.list(), pod, old).map(keyOf) },
        { informer: this.#endpoints },
      ],
      reconcile: (key) => this.#reconcile(key),
      workers: 4,
      log: this.#log,
    });
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const svc = this.#services.get(namespace, name);
    const current = this.#endpoints.get(namespace, name);
    if (svc === undefined) {
      // Endpoints of a Service with no selector were never ours; for a gone Service they go with it.
      if (current !== undefined) await this.#ignoreGone(this.#kube.delete(paths.namespaced(namespace, 'endpoints', name)));
      return undefined;
    }
    if (selectorOf(svc) === undefined) return undefined;
    const subsets = desiredSubsets(svc, this.#pods.list());
    const labels: Record<string, string> = { ...labelsOf(svc), ...(isHeadless(svc) ? { [HEADLESS_LABEL]: '' } : {}) };
    if (current !== undefined && sameSubsets(current['subsets'], subsets) && sameLabels(labelsOf(current), labels)) return undefined;
    const body: KubeObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? {}), name, namespace, labels },
      subsets,
    };
    try {
      if (current === undefined) await this.#kube.create(paths.namespaced(namespace, 'endpoints'), body);
      else await this.#kube.replace(paths.namespaced(namespace, 'endpoints', name), body);
    } catch (err) {
      // The cache is behind (someone else wrote it): its event brings this key back with the newer state.
      if (isAlreadyExists(err) || isConflict(err) || isNotFound(err)) return undefined;
      throw err;
    }
    return undefined;
  }

  async #ignoreGone(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
