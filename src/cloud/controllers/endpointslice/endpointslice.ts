import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import { isAlreadyExists, isConflict, isNotFound, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import type { InformerView } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { controllerRef, keyOf, labelsOf, nameOf, namespaceOf, resourcePath, splitKey } from '../kit/objects.ts';
import { selectorOf, servicesSelecting } from '../kit/services.ts';
import { desiredSlices, MANAGED_BY, MANAGED_BY_LABEL, planSlices, SERVICE_NAME_LABEL, sliceLabels, type SliceContent } from './slices.ts';

const API = 'discovery.k8s.io/v1';

/**
 * Kubernetes' endpointslice controller: EndpointSlices (IPv4, at most 100 endpoints each, owned by their
 * Service) for every Service with a selector, with ready/serving/terminating conditions per pod; slices are
 * written only when what they hold changes.
 */
export class EndpointSliceController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #services: InformerView;
  readonly #slices: InformerView;
  readonly #pods: InformerView;

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('endpointslice-controller');
    this.#services = d.informers.informer({ path: '/api/v1/services', kind: 'Service', apiVersion: 'v1' });
    this.#slices = d.informers.informer({ path: `/apis/${API}/endpointslices`, kind: 'EndpointSlice', apiVersion: API });
    this.#pods = d.informers.pods;
    this.module = new Controller({
      name: 'endpointslice',
      informers: d.informers,
      watches: [
        { informer: this.#services },
        { informer: this.#pods, keys: (pod, _t, old) => servicesSelecting(this.#services.list(), pod, old).map(keyOf) },
        { informer: this.#slices, keys: (s) => (isOurs(s) ? [`${namespaceOf(s)}/${labelsOf(s)[SERVICE_NAME_LABEL]}`] : []) },
      ],
      reconcile: (key) => this.#reconcile(key),
      workers: 4,
      log: this.#log,
    });
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const svc = this.#services.get(namespace, name);
    const existing = this.#slices.list().filter((s) => namespaceOf(s) === namespace && isOurs(s) && labelsOf(s)[SERVICE_NAME_LABEL] === name);
    if (svc === undefined || selectorOf(svc) === undefined) {
      // The garbage collector would take them with their Service; without it they still go.
      for (const s of existing) await this.#write(() => this.#kube.delete(resourcePath(API, 'endpointslices', namespace, nameOf(s))));
      return undefined;
    }
    const labels = sliceLabels(svc);
    const plan = planSlices(existing, desiredSlices(svc, this.#pods.list()), labels);
    for (const content of plan.create) {
      await this.#write(() => this.#kube.create(resourcePath(API, 'endpointslices', namespace), this.#body(svc, labels, content)));
    }
    for (const { slice, content } of plan.update) {
      const body = this.#body(svc, labels, content, slice);
      await this.#write(() => this.#kube.replace(resourcePath(API, 'endpointslices', namespace, nameOf(slice)), body));
    }
    for (const s of plan.remove) await this.#write(() => this.#kube.delete(resourcePath(API, 'endpointslices', namespace, nameOf(s))));
    return undefined;
  }

  #body(svc: KubeObject, labels: Record<string, string>, content: SliceContent, current?: KubeObject): KubeObject {
    const name = current === undefined ? `${nameOf(svc).slice(0, 57)}-${randomBytes(3).toString('hex').slice(0, 5)}` : nameOf(current);
    return {
      apiVersion: API,
      kind: 'EndpointSlice',
      metadata: {
        ...(current?.metadata ?? {}),
        name,
        namespace: namespaceOf(svc),
        labels,
        ownerReferences: [controllerRef({ ...svc, apiVersion: 'v1', kind: 'Service' })],
      },
      addressType: 'IPv4',
      endpoints: content.endpoints,
      ports: content.ports,
    };
  }

  /** A write the cache was behind on (conflict, already there, gone) is dropped: its event brings the key back. */
  async #write(f: () => Promise<unknown>): Promise<void> {
    try {
      await f();
    } catch (err) {
      if (isAlreadyExists(err) || isConflict(err) || isNotFound(err)) return;
      throw err;
    }
  }
}

function isOurs(slice: KubeObject): boolean {
  return labelsOf(slice)[MANAGED_BY_LABEL] === MANAGED_BY && labelsOf(slice)[SERVICE_NAME_LABEL] !== undefined;
}
