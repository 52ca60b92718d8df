import * as k8s from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { KubeEdgeError } from '../core/errors.ts';

export { k8s };

export class KubeConfigError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_KUBECONFIG', message, context, cause === undefined ? {} : { cause });
  }
}

/**
 * Loads a kubeconfig file (the embedded API server's admin kubeconfig or a real cluster's), or the in-cluster
 * service account when no file is named and we run in a pod. `master` overrides the server URL, as KubeEdge's
 * `kubeAPIConfig.master` does.
 */
export function loadKubeConfig(o: { kubeConfig: string; master?: string }): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (o.kubeConfig !== '') {
    if (!existsSync(o.kubeConfig)) {
      throw new KubeConfigError(`kubeconfig ${o.kubeConfig} does not exist`, { path: o.kubeConfig });
    }
    try {
      kc.loadFromFile(o.kubeConfig);
    } catch (err) {
      throw new KubeConfigError(`kubeconfig ${o.kubeConfig} cannot be read`, { path: o.kubeConfig }, err);
    }
  } else if (process.env['KUBERNETES_SERVICE_HOST'] !== undefined) {
    kc.loadFromCluster();
  } else {
    throw new KubeConfigError('no kubeconfig given and not running inside a cluster');
  }
  const master = o.master ?? '';
  if (master !== '') {
    const current = kc.getCurrentCluster();
    kc.clusters = kc.clusters.map((c) => (c.name === current?.name ? { ...c, server: master } : c));
  }
  if (kc.getCurrentCluster() === null) {
    throw new KubeConfigError(`kubeconfig ${o.kubeConfig} has no current context with a cluster`, { path: o.kubeConfig });
  }
  return kc;
}
