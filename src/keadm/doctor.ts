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
import { kubeEdgeCrds } from '../kube/crds.ts';
import { KubeRest, isNotFound } from '../kube/rest.ts';
import { type ClusterServer, clusterServer, probeApiServer } from './cluster.ts';
import { CLOUDCORE_CLUSTER_RULES, CLOUDCORE_NAMESPACE, CLOUDCORE_NAMESPACE_RULES } from './cluster-rbac.ts';
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
    out.push(...(await clusterChecks(kubeConfig)));
  } else if (apiServerEnabled(cfg, {})) {
    out.push(ok('kubeconfig', 'none given: cloudcore runs the embedded API server'));
    out.push(await checkPort(cfg.modules.apiServer.port, 'embedded API server', mine));
  }
  out.push(checkDiskSpace('/var/lib/kubeedge'));
  return out;
}

async function crdCheck(kube: KubeRest): Promise<CheckResult> {
  const missing: string[] = [];
  try {
    for (const crd of kubeEdgeCrds()) {
      const name = String(crd.metadata?.name);
      try {
        await kube.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        missing.push(name);
      }
    }
  } catch (err) {
    return fail('CRDs', `cannot read them: ${describeError(err)}`, 'use credentials that may get customresourcedefinitions');
  }
  return missing.length === 0
    ? ok('CRDs', `KubeEdge's ${kubeEdgeCrds().length} CustomResourceDefinitions are present`)
    : fail('CRDs', `missing ${missing.join(', ')}`, 'keadm init --kube-config installs them (or kubectl apply -f manifests/crds/)');
}

type Access = { group: string; resource: string; subresource?: string; verb: string; namespace?: string };

/** Every (resource, verb) cloudcore's RBAC grants: the same rules keadm init installs. */
export function accessNeeded(): Access[] {
  const out: Access[] = [];
  const add = (rules: typeof CLOUDCORE_CLUSTER_RULES, namespace?: string) => {
    for (const r of rules)
      for (const g of r.apiGroups)
        for (const res of r.resources)
          for (const verb of r.verbs) {
            const [resource = res, subresource] = res.split('/');
            out.push({ group: g, resource, ...(subresource !== undefined ? { subresource } : {}), verb, ...(namespace !== undefined ? { namespace } : {}) });
          }
  };
  add(CLOUDCORE_CLUSTER_RULES);
  add(CLOUDCORE_NAMESPACE_RULES, CLOUDCORE_NAMESPACE);
  return out;
}

const accessText = (a: Access) => `${a.verb} ${a.resource}${a.subresource !== undefined ? `/${a.subresource}` : ''}${a.group !== '' ? `.${a.group}` : ''}`;

/**
 * A real cluster as cloudcore will see it: its API server answers from where cloudcore runs (this host: a
 * loopback server means keadm init puts cloudcore on the host network), the credentials may do everything
 * cloudcore does (one SelfSubjectAccessReview per verb), and KubeEdge's CRDs are there.
 */
async function clusterChecks(kubeConfig: string): Promise<CheckResult[]> {
  let kube: KubeRest;
  let server: ClusterServer;
  try {
    const kc = loadKubeConfig({ kubeConfig });
    server = clusterServer(kc);
    kube = new KubeRest(kc);
  } catch (err) {
    return [fail('kubeconfig', `${kubeConfig}: ${describeError(err)}`, 'pass a valid kubeconfig with --kube-config')];
  }
  try {
    try {
      await probeApiServer(kube, server, kubeConfig);
    } catch (err) {
      return [fail('API server', describeError(err).split(' (fix: ')[0] ?? '', 'start the cluster, or pass the kubeconfig of a cluster this host reaches')];
    }
    const out: CheckResult[] = [
      ok(
        'API server',
        `${server.url} answers from this host${server.loopback ? ' (loopback: keadm init runs cloudcore on the host network, where it answers the same)' : ''}`,
      ),
    ];
    const denied: string[] = [];
    let asked = 0;
    try {
      for (const a of accessNeeded()) {
        const { group, resource, subresource, verb, namespace } = a;
        const review = await kube.create<{ status?: { allowed?: boolean } }>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              group,
              resource,
              verb,
              ...(subresource !== undefined ? { subresource } : {}),
              ...(namespace !== undefined ? { namespace } : {}),
            },
          },
        });
        asked++;
        if (review.status?.allowed !== true) denied.push(accessText(a));
      }
      out.push(
        denied.length === 0
          ? ok('permissions', `the credentials may do all ${asked} things cloudcore does (SelfSubjectAccessReview each)`)
          : fail(
              'permissions',
              `the credentials may not ${denied.slice(0, 5).join(', ')}${denied.length > 5 ? ` and ${denied.length - 5} more` : ''}`,
              'use credentials bound to the ClusterRole in manifests/rbac/cloudcore-cluster.yaml (keadm init installs it), or an admin kubeconfig',
            ),
      );
    } catch (err) {
      out.push(fail('permissions', `cannot ask the API server: ${describeError(err)}`, 'check that the cluster serves authorization.k8s.io/v1'));
    }
    out.push(await crdCheck(kube));
    return out;
  } catch (err) {
    return [fail('kubeconfig', `${kubeConfig}: ${describeError(err)}`, 'pass the kubeconfig of a reachable cluster with --kube-config')];
  } finally {
    kube.close();
  }
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
