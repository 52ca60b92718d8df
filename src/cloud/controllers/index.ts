import type { Logger } from '../../core/log.ts';
import type { Module } from '../../core/module.ts';
import type { KubeRest } from '../../kube/rest.ts';
import type { CloudInformers } from '../common/informers/informers.ts';

/** What every embedded controller is built from: the API (as cloudcore's ServiceAccount) and the shared informers. */
export type ControllerDeps = {
  kube: KubeRest;
  informers: CloudInformers;
  log: (name: string) => Logger;
};

export type ControllerFactory = (deps: ControllerDeps) => Module;

/**
 * The embedded control plane's controllers by kube-controller-manager name (CONTROLLER_NAMES in
 * src/config/cloudcore.ts lists every name the config accepts), and `scheduler`. One line per controller.
 */
export const CONTROLLERS: Readonly<Record<string, ControllerFactory>> = {};

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
