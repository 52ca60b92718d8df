import type { Logger } from '../../core/log.ts';
import type { k8s } from '../../kube/client.ts';
import type { Module } from '../../core/module.ts';
import type { KubeRest } from '../../kube/rest.ts';
import type { CloudInformers } from '../common/informers/informers.ts';
import { EventTtlController } from './eventttl/eventttl.ts';
import { NodeLifecycleController } from './nodelifecycle/nodelifecycle.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { DeploymentController } from './deployment/controller.ts';
import { ReplicaSetController } from './replicaset/controller.ts';
import { CronJobController } from './cronjob/controller.ts';
import { DaemonSetController } from './daemonset/controller.ts';
import { JobController } from './job/controller.ts';
import { StatefulSetController } from './statefulset/controller.ts';
import { TtlAfterFinishedController } from './ttlafterfinished/controller.ts';
import { EndpointController } from './endpoint/endpoint.ts';
import { EndpointSliceController } from './endpointslice/endpointslice.ts';
import { GarbageCollector } from './garbagecollector/garbagecollector.ts';
import { NamespaceController } from './namespace/namespace.ts';
import { ServiceAccountController } from './serviceaccount/serviceaccount.ts';

/** What every embedded controller is built from: the API (as cloudcore's ServiceAccount) and the shared informers. */
export type ControllerDeps = {
  kube: KubeRest;
  informers: CloudInformers;
  log: (name: string) => Logger;
  /** The kubeconfig `kube` was built from (its cluster CA is what pods are told to trust: kube-root-ca.crt). */
  kubeConfig?: k8s.KubeConfig;
};

export type ControllerFactory = (deps: ControllerDeps) => Module;

/**
 * The embedded control plane's controllers by kube-controller-manager name (CONTROLLER_NAMES in
 * src/config/cloudcore.ts lists every name the config accepts), and `scheduler`. One line per controller.
 */
export const CONTROLLERS: Readonly<Record<string, ControllerFactory>> = {
  scheduler: (d) => new Scheduler(d).module,
  nodelifecycle: (d) => new NodeLifecycleController(d).module,
  eventttl: (d) => new EventTtlController(d),
  deployment: (d) => new DeploymentController(d).module,
  replicaset: (d) => new ReplicaSetController(d).module,
  daemonset: (d) => new DaemonSetController(d).module,
  job: (d) => new JobController(d).module,
  cronjob: (d) => new CronJobController(d).module,
  statefulset: (d) => new StatefulSetController(d).module,
  'ttl-after-finished': (d) => new TtlAfterFinishedController(d).module,
  garbagecollector: (d) => new GarbageCollector(d).module,
  serviceaccount: (d) => new ServiceAccountController(d).module,
  endpoint: (d) => new EndpointController(d).module,
  endpointslice: (d) => new EndpointSliceController(d).module,
  namespace: (d) => new NamespaceController(d).module,
};

export type ControlPlaneConfig = {
  /** Names from `modules.controllerManager.controllers` after selection (selectedControllers); [] = none. */
  controllers: readonly string[];
  scheduler: boolean;
};

/**
 * The modules of the embedded control plane in start order. A selected name that is not built yet is
 * returned in `notBuilt`, for cloudcore to name in one warning.
 */
export function assembleControlPlane(cfg: ControlPlaneConfig, deps: ControllerDeps): { modules: Module[]; notBuilt: string[] } {
  const modules: Module[] = [];
  const notBuilt: string[] = [];
  const names = [...cfg.controllers, ...(cfg.scheduler ? ['scheduler'] : [])];
  for (const name of names) {
    const f = CONTROLLERS[name];
    if (f === undefined) notBuilt.push(name);
    else modules.push(f(deps));
  }
  return { modules, notBuilt };
}
