/**
 * `keadm reset`: removes what init/join/up made for one instance: our containers (by label), the pod
 * containers our edge nodes started, our volumes and (unless --keep-data) the state directories, and any
 * iptables chain of ours. Asks before deleting data; without a terminal it refuses unless --force.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { describeError } from '../core/errors.ts';
import type { DockerClient } from '../containers/index.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { KubeRest, isNotFound } from '../kube/rest.ts';
import { INSTALL_RECORD, type InstallRecord } from './init.ts';
import { removeMeshChains, removeMeshNetworks } from './edgemesh.ts';
import { EXIT, INSTANCE_LABEL, KeadmError, NODE_LABEL, POD_NODE_LABEL, POD_ROOT_LABEL, ROLE_LABEL, STATE_LABEL, requireEngine, type Out } from './common.ts';

/** Other chains of ours, removed if present (KE-STREAM only with this instance's cloudcore); EdgeMesh's are per node (removeMeshChains). */
export const OUR_CHAINS = [
  ['nat', 'KUBEEDGE-TS'],
  ['nat', 'KE-STREAM'],
] as const;
const POD_UID_LABEL = 'io.kubernetes.pod.uid';

export type ResetOptions = { docker: DockerClient; instance: string; force: boolean; keepData: boolean; log: Out; confirm?: (q: string) => Promise<boolean> };
export type ResetResult = { containers: string[]; volumes: string[]; dirs: string[]; chains: string[]; clusterObjects: string[] };

/**
 * Deletes from the cluster what `keadm init --kube-config` created there (never what it found present),
 * last installed first; the CRDs only when forced, since deleting one deletes every object of its kind.
 */
async function removeClusterObjects(dirs: string[], force: boolean, log: Out): Promise<string[]> {
  const removed: string[] = [];
  for (const d of dirs) {
    let rec: InstallRecord;
    try {
      rec = JSON.parse(readFileSync(path.join(d, INSTALL_RECORD), 'utf8')) as InstallRecord;
    } catch {
      continue;
    }
    const ours = rec.objects.filter((x) => x.created).reverse();
    if (ours.length === 0) {
      log(`nothing to remove from the cluster of ${rec.kubeConfig}: init found everything present`);
      continue;
    }
    let kube: KubeRest;
    try {
      kube = new KubeRest(loadKubeConfig({ kubeConfig: rec.kubeConfig }));
    } catch (err) {
      log(`cannot remove what init installed in the cluster (${describeError(err)}): delete ${ours.map((x) => x.ref).join(', ')} by hand`);
      continue;
    }
    try {
      for (const x of ours) {
        if (x.crd && !force) continue;
        try {
          await kube.delete(x.path);
        } catch (err) {
          if (!isNotFound(err)) {
            log(`could not remove ${x.ref}: ${describeError(err)}`);
            continue;
          }
        }
        removed.push(x.ref);
        log(`removed ${x.ref}`);
      }
      const kept = ours.filter((x) => x.crd);
      if (!force && kept.length > 0)
        log(`kept KubeEdge's CustomResourceDefinitions (${kept.length}): deleting them deletes every object of their kinds; keadm reset --force removes them`);
    } finally {
      kube.close();
    }
  }
  return removed;
}

async function askTty(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function removeChains(log: Out, withCloud: boolean): string[] {
  const removed: string[] = [];
  for (const [table, chain] of OUR_CHAINS) {
    if (chain === 'KE-STREAM' && !withCloud) continue;
    if (spawnSync('iptables', ['-t', table, '-n', '-L', chain], { stdio: 'ignore' }).status !== 0) continue;
    // Jumps into the chain first, then the chain itself.
    for (const parent of ['PREROUTING', 'OUTPUT', 'INPUT', 'FORWARD', 'POSTROUTING']) {
      while (spawnSync('iptables', ['-t', table, '-D', parent, '-j', chain], { stdio: 'ignore' }).status === 0) {
        /* all copies */
      }
    }
    spawnSync('iptables', ['-t', table, '-F', chain], { stdio: 'ignore' });
    if (spawnSync('iptables', ['-t', table, '-X', chain], { stdio: 'ignore' }).status === 0) {
      removed.push(`${table}/${chain}`);
      log(`removed iptables chain ${table}/${chain}`);
    }
  }
  return removed;
}

export async function keadmReset(o: ResetOptions): Promise<ResetResult> {
  const c = o.docker;
  const log = o.log;
  await requireEngine(c);
  const ours = await c.listContainers({ all: true, labels: [ROLE_LABEL, `${INSTANCE_LABEL}=${o.instance}`] });
  const volumes = await c.listVolumes([ROLE_LABEL, `${INSTANCE_LABEL}=${o.instance}`]);
  const dirs = [...new Set(ours.flatMap((x) => (x.Labels[STATE_LABEL] ?? '').split(',')).filter((d) => d !== '' && d !== '/'))];
  const willDelete = !o.keepData && (volumes.length > 0 || dirs.some((d) => existsSync(d)));
  if (ours.length === 0 && volumes.length === 0) log(`nothing of instance ${o.instance} found`);
  if (willDelete && !o.force) {
    const q = `this deletes the cloud's data (volumes ${volumes.map((v) => v.Name).join(', ') || 'none'}) and state directories ${dirs.join(', ') || 'none'}. Continue?`;
    const yes = await (o.confirm ?? askTty)(q);
    if (!yes) throw new KeadmError('reset refused: it deletes data; confirm on a terminal, pass --force, or --keep-data to keep it', EXIT.refused);
  }

  // Pod containers our edge nodes started: labelled with our node names, or with a pod UID under our pod roots.
  const nodes = new Set(ours.map((x) => x.Labels[NODE_LABEL]).filter((n): n is string => n !== undefined));
  const uids = new Set<string>();
  for (const x of ours) {
    const root = x.Labels[POD_ROOT_LABEL];
    if (root === undefined) continue;
    try {
      for (const u of readdirSync(path.join(root, 'pods'))) uids.add(u);
    } catch {
      /* no pods */
    }
  }
  const candidates = await c.listContainers({ all: true, labels: [POD_UID_LABEL] });
  const pods = candidates.filter(
    (x) => x.Labels[ROLE_LABEL] === undefined && (nodes.has(x.Labels[POD_NODE_LABEL] ?? '') || uids.has(x.Labels[POD_UID_LABEL] ?? '')),
  );

  const removed: string[] = [];
  // Edge first, so no edgecore restarts a pod while we remove it.
  for (const x of [...ours.filter((y) => y.Labels[ROLE_LABEL] === 'edgecore'), ...pods, ...ours.filter((y) => y.Labels[ROLE_LABEL] !== 'edgecore')]) {
    const name = (x.Names[0] ?? x.Id).replace(/^\//, '');
    await c.removeContainer(x.Id, { force: true, volumes: true }).catch((err: unknown) => {
      if (!(err instanceof Error && /No such container|404/.test(err.message))) throw err;
    });
    removed.push(name);
    log(`removed container ${name}`);
  }
  const clusterObjects = await removeClusterObjects(dirs, o.force, log);
  const removedVolumes: string[] = [];
  const removedDirs: string[] = [];
  if (!o.keepData) {
    for (const v of volumes) {
      await c.removeVolume(v.Name);
      removedVolumes.push(v.Name);
      log(`removed volume ${v.Name}`);
    }
    for (const d of dirs) {
      if (!existsSync(d)) continue;
      rmSync(d, { recursive: true, force: true });
      removedDirs.push(d);
      log(`removed ${d}`);
    }
    // keadm up's per-node parents (<state-root>/<node>) and the root itself, once empty.
    for (const d of removedDirs) {
      for (let p = path.dirname(d), i = 0; i < 2; p = path.dirname(p), i++) {
        try {
          rmdirSync(p);
        } catch {
          break;
        }
      }
    }
  } else if (volumes.length > 0 || dirs.length > 0) {
    log(`kept data: ${[...volumes.map((v) => `volume ${v.Name}`), ...dirs].join(', ')}`);
  }
  await removeMeshNetworks(c, o.instance, log);
  // KE-STREAM is cloudcore's (iptablesManager): only when this instance has one; mesh chains: its edge nodes'.
  const hasCloud = ours.some((x) => x.Labels[ROLE_LABEL] === 'cloudcore');
  const chains = [...removeChains(log, hasCloud), ...removeMeshChains(log, nodes)];
  return { containers: removed, volumes: removedVolumes, dirs: removedDirs, chains, clusterObjects };
}
