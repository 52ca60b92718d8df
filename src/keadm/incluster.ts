/**
 * `keadm init --in-cluster`: cloudcore as a Deployment inside the cluster, as KubeEdge's keadm installs it: the
 * chart manifests/charts/cloudcore through helm when helm is on PATH, else the same objects rendered here and
 * server-side applied (KubeEdge's CRDs and the kubeedge namespace first). `--dry-run` prints the manifests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../core/errors.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { kubeEdgeCrds } from '../kube/crds.ts';
import { KubeRest } from '../kube/rest.ts';
import { type ChartValues, helmSetArgs, manifestsText, renderChart } from './chart.ts';
import { applyObjects, clusterServer, describeApplied, probeApiServer } from './cluster.ts';
import { cloudcoreClusterRbac, CLOUDCORE_NAMESPACE } from './cluster-rbac.ts';
import { EXIT, KeadmError, type Out } from './common.ts';
import { sourceRoot } from './image/build.ts';

export type InClusterOptions = { kubeConfig: string; values: ChartValues; dryRun: boolean; useHelm?: boolean; log: Out };

function chartDir(): string | undefined {
  try {
    const d = path.join(sourceRoot(), 'manifests/charts/cloudcore');
    return existsSync(path.join(d, 'Chart.yaml')) ? d : undefined;
  } catch {
    return undefined;
  }
}

function helmOnPath(): boolean {
  return spawnSync('helm', ['version', '--short'], { stdio: 'ignore' }).status === 0;
}

export async function keadmInitInCluster(o: InClusterOptions): Promise<void> {
  const objects = renderChart(o.values);
  if (o.dryRun) {
    process.stdout.write(manifestsText(objects));
    return;
  }
  const kc = loadKubeConfig({ kubeConfig: o.kubeConfig });
  const server = clusterServer(kc);
  const kube = new KubeRest(kc);
  try {
    await probeApiServer(kube, server, o.kubeConfig);
    const chart = chartDir();
    if ((o.useHelm ?? helmOnPath()) && chart !== undefined) {
      const args = [
        'upgrade',
        '--install',
        'cloudcore',
        chart,
        '-n',
        CLOUDCORE_NAMESPACE,
        '--create-namespace',
        '--kubeconfig',
        o.kubeConfig,
        ...helmSetArgs(o.values),
      ];
      const r = spawnSync('helm', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new KeadmError(`helm ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
      o.log(`installed the chart ${chart} with helm as release cloudcore in namespace ${CLOUDCORE_NAMESPACE}`);
      return;
    }
    o.log(describeApplied("KubeEdge's CustomResourceDefinitions (Established)", await applyObjects(kube, kubeEdgeCrds())));
    const namespace = cloudcoreClusterRbac().filter((x) => x.kind === 'Namespace');
    o.log(describeApplied('cloudcore (rendered chart, no helm on PATH)', await applyObjects(kube, [...namespace, ...objects])));
  } catch (err) {
    if (err instanceof KeadmError) throw err;
    throw new KeadmError(`cannot install cloudcore in the cluster of ${o.kubeConfig}: ${describeError(err)}`, EXIT.failed, { kubeConfig: o.kubeConfig }, err);
  } finally {
    kube.close();
  }
}
