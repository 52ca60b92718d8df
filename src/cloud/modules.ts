import { logger, type Logger } from '../core/log.ts';
import type { Module } from '../core/module.ts';
import type { k8s } from '../kube/client.ts';
import type { KubeRest } from '../kube/rest.ts';
import { CloudHub, type CloudHubOptions } from './cloudhub/cloudhub.ts';
import { OBJECT_SYNC_INFORMERS, ObjectSyncStore } from './cloudhub/reliable/objectsync.ts';
import { CloudInformers } from './common/informers/informers.ts';
import { DeviceController, type DeviceControllerOptions } from './devicecontroller/devicecontroller.ts';
import { assembleControlPlane, type ControlPlaneConfig } from './controllers/index.ts';
import type { AuthzMode } from './edgecontroller/authz/node-authorizer.ts';
import { EdgeController } from './edgecontroller/edgecontroller.ts';
import { SyncController } from './synccontroller/synccontroller.ts';

/** What cloudcore's modules are built from (cloudcore.ts maps its config onto this; tests set it directly). */
export type CloudModulesConfig = {
  /** CloudHub's listener, TLS material and limits; undefined = no CloudHub (disabled, or no WebSocket). */
  cloudHub: Omit<CloudHubOptions, 'objectSyncs'> | undefined;
  edgeController: {
    enable: boolean;
    /** Only with the embedded API server: there is no controller-manager to mark silent nodes. */
    nodeMonitor?: { gracePeriodMs: number; periodMs: number };
    /** The node authorizer's mode (cloudHub.authorization; default `audit`). */
    authorization?: AuthzMode;
  };
  syncController: { enable: boolean; periodMs?: number };
  /** KubeEdge's devicecontroller; undefined = disabled. */
  deviceController?: { enable: boolean } & Pick<
    DeviceControllerOptions,
    'statusUpdateIntervalMs' | 'lastOnlineIntervalMs' | 'updateDeviceStatusBuffer' | 'updateDeviceStatusWorkers'
  >;
  /** The embedded control plane (controllers, scheduler): only with the embedded API server. */
  controlPlane?: ControlPlaneConfig;
  /** Watch retry backoff of the shared informers. */
  informerBackoff?: { initialMs: number; maxMs: number };
};

export type CloudModuleDeps = {
  kube: KubeRest;
  /** Watches need the kubeconfig itself, not only the REST client. */
  kubeConfig: k8s.KubeConfig;
  /** Logger of the parts that log outside a module's context (default: `logger(name)`). */
  log?: (name: string) => Logger;
};

/** cloudcore's modules in start order, and handles on them for those who look inside (tests, diagnostics). */
export type CloudModuleSet = {
  modules: Module[];
  hub: CloudHub | undefined;
  edgeController: EdgeController;
  syncController: SyncController | undefined;
  informers: CloudInformers;
  deviceController: DeviceController | undefined;
  /** Selected controllers that are not built yet (cloudcore names them in one warning). */
  notBuilt: string[];
};

/**
 * Builds cloudcore's module set: CloudHub (with its ObjectSync-backed reliable queue), EdgeController,
 * SyncController and DeviceController over one set of shared informers. The modules talk only through the bus:
 * CloudHub notes what it delivers in the ObjectSyncs, SyncController reads those and the shared caches, and neither
 * knows the others.
 */
export function assembleCloudModules(cfg: CloudModulesConfig, deps: CloudModuleDeps): CloudModuleSet {
  const log = deps.log ?? logger;
  const cp = cfg.controlPlane;
  const controlPlaneOn = cp !== undefined && (cp.controllers.length > 0 || cp.scheduler);
  const informers = new CloudInformers({
    kc: deps.kubeConfig,
    kube: deps.kube,
    log: log('informers'),
    allNodes: controlPlaneOn,
    ...(cfg.informerBackoff === undefined ? {} : { backoff: cfg.informerBackoff }),
  });
  // Watch-fed caches of the ObjectSyncs: the reliable queue and the synccontroller read them instead of the API.
  const objectSyncs = new ObjectSyncStore(deps.kube, {
    namespaced: informers.informer(OBJECT_SYNC_INFORMERS.namespaced),
    cluster: informers.informer(OBJECT_SYNC_INFORMERS.cluster),
  });
  const modules: Module[] = [];
  const hub = cfg.cloudHub === undefined ? undefined : new CloudHub({ ...cfg.cloudHub, objectSyncs });
  if (hub !== undefined) modules.push(hub);
  const ec = cfg.edgeController;
  const edgeController = new EdgeController({
    enabled: ec.enable,
    kube: deps.kube,
    informers,
    log: log('edgecontroller'),
    ...(ec.nodeMonitor === undefined ? {} : { nodeMonitor: ec.nodeMonitor }),
    ...(ec.authorization === undefined ? {} : { authorization: ec.authorization }),
  });
  modules.push(edgeController);
  // KubeEdge's synccontroller repairs what edgecontroller sent; without edgecontroller there is nothing to repair.
  const sc = cfg.syncController;
  const syncController =
    sc.enable && ec.enable
      ? new SyncController({ records: objectSyncs, live: informers, ...(sc.periodMs === undefined ? {} : { periodMs: sc.periodMs }) })
      : undefined;
  if (syncController !== undefined) modules.push(syncController);
  const { enable: devicesOn = false, ...dc } = cfg.deviceController ?? {};
  const deviceController = devicesOn
    ? new DeviceController({ ...dc, enabled: true, kube: deps.kube, informers, records: objectSyncs, log: log('devicecontroller') })
    : undefined;
  if (deviceController !== undefined) modules.push(deviceController);
  let notBuilt: string[] = [];
  if (cp !== undefined && controlPlaneOn) {
    const plane = assembleControlPlane(cp, { kube: deps.kube, informers, log, kubeConfig: deps.kubeConfig });
    modules.push(...plane.modules);
    notBuilt = plane.notBuilt;
  }
  return { modules, hub, edgeController, syncController, informers, deviceController, notBuilt };
}
