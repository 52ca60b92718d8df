// Test kit for the embedded control plane (src/cloud/controllers): a real embedded API server and the chosen
// controllers, assembled as cloudcore assembles them and authenticated as cloudcore's ServiceAccount, so RBAC
// is exercised too. Not imported by daemon code.
import { startTestServer, type TestServer } from './apiserver.ts';
import { quietLog } from './cloudhub.ts';
import { Bus } from '../../src/core/bus.ts';
import { ModuleRuntime } from '../../src/core/module.ts';
import { loadKubeConfig } from '../../src/kube/client.ts';
import { installKubeEdgeCrds } from '../../src/kube/crds.ts';
import { KubeRest } from '../../src/kube/rest.ts';
import { assembleCloudModules } from '../../src/cloud/modules.ts';
import type { CloudInformers } from '../../src/cloud/common/informers/informers.ts';

export type ControlPlaneTest = {
  api: TestServer;
  /** Admin access, for the test's own reads and writes (kubectl uses api.kubeConfigPath). */
  admin: KubeRest;
  informers: CloudInformers;
  /** Stops the controllers (the API server keeps running: `restart()` starts them again on the same data). */
  stop(): Promise<void>;
  /** Starts the same controllers again (after `stop`), as a restarted cloudcore would. */
  restart(): Promise<ControlPlaneTest>;
  /** Stops everything and removes the temp dir. */
  cleanup(): Promise<void>;
};

/**
 * Runs `controllers` (names as in modules.controllerManager.controllers; `scheduler` for the scheduler) against a
 * fresh embedded API server, without CloudHub or EdgeController.
 */
export async function startControlPlane(controllers: string[], api?: TestServer): Promise<ControlPlaneTest> {
  const server = api ?? (await startTestServer());
  const log = quietLog('controlplane-test');
  const admin = new KubeRest(loadKubeConfig({ kubeConfig: server.kubeConfigPath }));
  await installKubeEdgeCrds(admin);
  const kc = loadKubeConfig({ kubeConfig: server.cloudcoreKubeConfigPath });
  const kube = new KubeRest(kc);
  const set = assembleCloudModules(
    {
      cloudHub: undefined,
      edgeController: { enable: false },
      syncController: { enable: false },
      controlPlane: { controllers: controllers.filter((c) => c !== 'scheduler'), scheduler: controllers.includes('scheduler') },
      informerBackoff: { initialMs: 50, maxMs: 500 },
    },
    { kube, kubeConfig: kc, log: () => log },
  );
  if (set.notBuilt.length > 0) throw new Error(`controllers not built: ${set.notBuilt.join(', ')}`);
  const bus = new Bus(log);
  const runtime = new ModuleRuntime(bus, log);
  for (const m of set.modules) runtime.add(m);
  await runtime.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await runtime.stop();
    kube.close();
  };
  return {
    api: server,
    admin,
    informers: set.informers,
    stop,
    restart: async () => {
      await stop();
      admin.close();
      return startControlPlane(controllers, server);
    },
    cleanup: async () => {
      await stop();
      admin.close();
      await server.cleanup();
    },
  };
}
