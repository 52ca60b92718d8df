/**
 * `keadm doctor`: checks a host before anything runs, one line per check with the fix for each problem.
 * The edge checks are edgecore's own start-up checks plus advisory ones; the cloud checks cover the engine,
 * ports, the kubeconfig and disk space.
 */
import { existsSync } from 'node:fs';
import { describeError } from '../core/errors.ts';
import {
  loadCloudCoreConfig,
  loadEdgeCoreConfig,
  defaultCloudCoreConfig,
  defaultEdgeCoreConfig,
  apiServerEnabled,
  type CloudCoreConfig,
  type EdgeCoreConfig,
} from '../config/index.ts';
import { checkDiskSpace, checkEngineSocket, checkPort, edgeChecks, fail, failures, formatCheck, ok, type CheckResult } from '../edge/checks/index.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { KubeRest, paths } from '../kube/rest.ts';
import { DOCKER_ENDPOINT, DockerClient } from '../containers/index.ts';
import { ROLE_LABEL, type Out } from './common.ts';

export type DoctorOptions = {
  role: 'edge' | 'cloud';
  config?: string;
  runtimeEndpoint?: string;
  kubeConfig?: string;
  log: Out;
};

/** Host ports published by our own containers: "in use by us" is fine for doctor. */
async function ourPorts(endpoint: string): Promise<Set<number>> {
  const set = new Set<number>();
  try {
    const list = await new DockerClient({ endpoint, timeoutMs: 5000 }).listContainers({ all: false, labels: [ROLE_LABEL] });
    for (const ctr of list as Array<{ Ports?: Array<{ PublicPort?: number }> }>)
      for (const p of ctr.Ports ?? []) if (p.PublicPort !== undefined) set.add(p.PublicPort);
  } catch {
    /* the engine check reports this */
  }
  return set;
}

function loadConfig<T>(
  role: 'edge' | 'cloud',
  file: string | undefined,
  load: (f: string) => { config: T },
  fallback: () => T,
): { config: T; line: CheckResult } {
  const path = file ?? (role === 'edge' ? '/etc/kubeedge/config/edgecore.yaml' : '/etc/kubeedge/config/cloudcore.yaml');
  if (file === undefined && !existsSync(path)) return { config: fallback(), line: ok('config', `${path} not found; checking with the defaults`) };
  try {
    return { config: load(path).config, line: ok('config', `${path} is valid`) };
  } catch (err) {
    return {
      config: fallback(),
      line: fail(
        'config',
        `${path}: ${describeError(err).split('\n')[0]}`,
        `fix the file (${role === 'edge' ? 'edgecore' : 'cloudcore'} --config ${path} prints every problem)`,
      ),
    };
  }
}

async function cloudChecks(cfg: CloudCoreConfig, o: DoctorOptions): Promise<CheckResult[]> {
  const endpoint = o.runtimeEndpoint ?? DOCKER_ENDPOINT;
  // keadm runs cloudcore in a container through the Docker Engine API: a CRI runtime there does not serve.
  const out: CheckResult[] = [(await checkEngineSocket(endpoint, { want: 'docker' })).result];
  const mine = await ourPorts(endpoint);
  const hub = cfg.modules.cloudHub;
  if (hub.websocket.enable) out.push(await checkPort(hub.websocket.port, 'cloudHub websocket', mine));
  if (hub.https.enable) out.push(await checkPort(hub.https.port, 'cloudHub https', mine));
  const kubeConfig = o.kubeConfig ?? (cfg.kubeAPIConfig.kubeConfig !== '' ? cfg.kubeAPIConfig.kubeConfig : undefined);
  if (kubeConfig !== undefined) {
    try {
      const kube = new KubeRest(loadKubeConfig({ kubeConfig }));
      try {
        await kube.get(paths.namespaces());
        out.push(ok('kubeconfig', `${kubeConfig} reaches the API server`));
      } finally {
        kube.close();
      }
    } catch (err) {
      out.push(
        fail(
          'kubeconfig',
          `${kubeConfig}: ${describeError(err)}`,
          'pass a kubeconfig of a reachable cluster with --kube-config, or leave it out for the embedded API server',
        ),
      );
    }
  } else if (apiServerEnabled(cfg, {})) {
    out.push(ok('kubeconfig', 'none given: cloudcore runs the embedded API server'));
    out.push(await checkPort(cfg.modules.apiServer.port, 'embedded API server', mine));
  }
  out.push(checkDiskSpace('/var/lib/kubeedge'));
  return out;
}

/** Prints one line per check; resolves with the exit code (1 when something would break). */
export async function keadmDoctor(o: DoctorOptions): Promise<number> {
  let results: CheckResult[];
  if (o.role === 'edge') {
    const { config, line } = loadConfig<EdgeCoreConfig>(
      'edge',
      o.config,
      (f) => loadEdgeCoreConfig(f),
      () => defaultEdgeCoreConfig(),
    );
    const endpoint = o.runtimeEndpoint ?? config.modules.edged.tailoredKubeletConfig.containerRuntimeEndpoint;
    results = [
      line,
      ...(await edgeChecks(config, {
        thorough: true,
        ...(o.runtimeEndpoint !== undefined ? { runtimeEndpoint: o.runtimeEndpoint } : {}),
        ourPorts: await ourPorts(endpoint),
      })),
    ];
  } else {
    const { config, line } = loadConfig<CloudCoreConfig>(
      'cloud',
      o.config,
      (f) => loadCloudCoreConfig(f),
      () => defaultCloudCoreConfig(),
    );
    results = [line, ...(await cloudChecks(config, o))];
  }
  for (const r of results) o.log(formatCheck(r));
  const failed = failures(results);
  o.log(
    failed.length === 0 ? `${o.role}: no problems found` : `${o.role}: ${failed.length} problem(s) would break ${o.role === 'edge' ? 'edgecore' : 'cloudcore'}`,
  );
  return failed.length === 0 ? 0 : 1;
}
