import { readFileSync } from 'node:fs';
import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import type { k8s } from '../../../kube/client.ts';
import { isAlreadyExists, isNotFound, paths, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import type { InformerView } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { isBeingDeleted, nameOf, namespaceOf } from '../kit/objects.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const ROOT_CA_KEY = 'ca.crt';

/**
 * Kubernetes' serviceaccount controller and its root-ca-cert-publisher in one module: every namespace that is
 * not terminating has a `default` ServiceAccount (created again when deleted) and a `kube-root-ca.crt`
 * ConfigMap holding the API server's CA (put back when deleted or edited), which the default projected
 * service-account volume of each pod mounts. Namespaces that exist at start get theirs at once.
 */
export class ServiceAccountController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #log: Logger;
  readonly #namespaces: InformerView;
  readonly #serviceAccounts: InformerView;
  readonly #configmaps: InformerView;
  readonly #caPem: string | undefined;

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('serviceaccount-controller');
    this.#caPem = d.kubeConfig === undefined ? undefined : clusterCa(d.kubeConfig);
    if (this.#caPem === undefined) this.#log.warn({}, `the API server's CA is unknown (kubeconfig without one): ${ROOT_CA_CONFIGMAP} is not published`);
    this.#namespaces = d.informers.informer({ path: '/api/v1/namespaces', kind: 'Namespace', apiVersion: 'v1' });
    this.#serviceAccounts = d.informers.informer({ path: '/api/v1/serviceaccounts', kind: 'ServiceAccount', apiVersion: 'v1' });
    this.#configmaps = d.informers.configmaps;
    this.module = new Controller({
      name: 'serviceaccount',
      informers: d.informers,
      watches: [
        { informer: this.#namespaces, keys: (ns, type) => (type === 'delete' ? [] : [`sa/${nameOf(ns)}`, `ca/${nameOf(ns)}`]) },
        { informer: this.#serviceAccounts, keys: (sa, type) => (type === 'delete' && nameOf(sa) === DEFAULT_SERVICE_ACCOUNT ? [`sa/${namespaceOf(sa)}`] : []) },
        { informer: this.#configmaps, keys: (cm) => (nameOf(cm) === ROOT_CA_CONFIGMAP ? [`ca/${namespaceOf(cm)}`] : []) },
      ],
      reconcile: (key) => this.#reconcile(key),
      log: this.#log,
    });
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const [what, namespace = ''] = key.split('/');
    const ns = this.#namespaces.get('', namespace);
    if (ns === undefined || isBeingDeleted(ns)) return undefined;
    if (what === 'sa') await this.#ensureServiceAccount(namespace);
    else await this.#ensureRootCa(namespace);
    return undefined;
  }

  async #ensureServiceAccount(namespace: string): Promise<void> {
    if (this.#serviceAccounts.get(namespace, DEFAULT_SERVICE_ACCOUNT) !== undefined) return;
    await this.#createIgnoringExisting(paths.namespaced(namespace, 'serviceaccounts'), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace },
    });
  }

  async #ensureRootCa(namespace: string): Promise<void> {
    if (this.#caPem === undefined) return;
    const want = { [ROOT_CA_KEY]: this.#caPem };
    const cm = this.#configmaps.get(namespace, ROOT_CA_CONFIGMAP);
    if (cm === undefined) {
      await this.#createIgnoringExisting(paths.namespaced(namespace, 'configmaps'), {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { 'kubernetes.io/description': CA_DESCRIPTION } },
        data: want,
      });
      return;
    }
    const data = (cm['data'] as Record<string, string> | undefined) ?? {};
    if (data[ROOT_CA_KEY] === this.#caPem && Object.keys(data).length === 1) return;
    try {
      await this.#kube.replace(paths.namespaced(namespace, 'configmaps', ROOT_CA_CONFIGMAP), { ...withoutStatus(cm), data: want });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #createIgnoringExisting(path: string, body: KubeObject): Promise<void> {
    try {
      await this.#kube.create(path, body);
    } catch (err) {
      // Already there (cache behind), or the namespace went meanwhile: the next event says what is left to do.
      if (isAlreadyExists(err) || isNotFound(err)) return;
      throw err;
    }
  }
}

const CA_DESCRIPTION = 'The CA bundle pods use to check the API server they reach through kubernetes.default.svc; nothing else is promised.';

function withoutStatus(o: KubeObject): KubeObject {
  const { status: _s, ...rest } = o;
  return rest;
}

/** The PEM of the current cluster's CA, from the kubeconfig's data or file. */
function clusterCa(kc: k8s.KubeConfig): string | undefined {
  const c = kc.getCurrentCluster();
  if (c === null) return undefined;
  if (c.caData !== undefined && c.caData !== '') return Buffer.from(c.caData, 'base64').toString('utf8');
  if (c.caFile !== undefined && c.caFile !== '') {
    try {
      return readFileSync(c.caFile, 'utf8');
    } catch {
      return undefined;
    }
  }
  return undefined;
}
