// The daemons inside their images, run the way `keadm up` runs them: cloudcore's container (embedded API server,
// ports published) and one edgecore container joined to it (host network, NET_ADMIN + NET_RAW, the engine socket),
// no pods. Both idle; usage over a window from the host (/proc of the container's node process) and from the engine.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DockerClient } from '../../src/containers/index.ts';
import { cloudContainerName, edgeContainerName, INSTANCE_LABEL } from '../../src/keadm/common.ts';
import { getToken } from '../../src/keadm/gettoken.ts';
import { BASE_IMAGE, ensureBaseImage } from '../../src/keadm/image/base.ts';
import { buildImages, contentDigest, IMAGE_KINDS, imageRef, sourceRoot, type ImageKind } from '../../src/keadm/image/build.ts';
import { keadmInit } from '../../src/keadm/init.ts';
import { keadmJoin, stateRootDirs } from '../../src/keadm/join.ts';
import { freePort, ROOT } from '../lib/cloud.ts';
import { measureContainer, type ContainerUsage } from '../lib/container-usage.ts';
import { sleep } from '../lib/pool.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt } from '../lib/stats.ts';
import { ensureDocker } from './docker.ts';

export type ImagesOptions = { workDir: string; edgeWindowMs: number; cloudWindowMs: number; settleMs: number };

const NODE = 'bench-image-edge';

/** Every JavaScript file in dist/ but the entry bundles: the chunks a split build shares between them (none without). */
function sharedChunks(dist: string): string[] {
  const entries = new Set(IMAGE_KINDS.map((k) => `${k}.mjs`).concat('keadm.mjs'));
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(m?js)$/.test(e.name) && !(d === dist && entries.has(e.name))) out.push(f);
    }
  };
  walk(dist);
  return out.sort();
}

/**
 * Tag of the bench's image of `kind`: from what it is built of (keadm's content digest of the bundle and Dockerfile,
 * plus any shared chunks beside the bundles), so a current image is reused and never confused with one another
 * checkout built under keadm's default tag on the same engine.
 */
function benchTag(kind: ImageKind): string {
  const root = sourceRoot(ROOT);
  const d = contentDigest(root, kind);
  if (d === undefined) throw new Error(`dist/${kind}.mjs is missing: run \`npm run build\` (npm run bench does)`);
  const chunks = sharedChunks(path.join(root, 'dist'));
  if (chunks.length === 0) return `bench-${d.slice(0, 12)}`;
  const h = createHash('sha256').update(d);
  for (const f of chunks) h.update(path.relative(root, f)).update(readFileSync(f));
  return `bench-${h.digest('hex').slice(0, 12)}`;
}

type Built = { image: string; sizeMB: number; buildSec: number | null };

/** The image of `kind` built by keadm's builder on the local base, unless one from the same bundle exists. */
async function ensureImage(docker: DockerClient, kind: ImageKind, base: string): Promise<Built> {
  const tag = benchTag(kind);
  const image = imageRef(kind, tag);
  const facts = await docker.imageFacts(image);
  if (facts !== undefined) return { image, sizeMB: (facts.Size ?? 0) / 1e6, buildSec: null };
  const [b] = await buildImages({ docker, baseImage: base, tag, kinds: [kind], sourceDir: sourceRoot(ROOT) });
  if (b === undefined) throw new Error(`no ${kind} image built`);
  await removeOlderBenchImages(docker, kind, tag);
  return { image, sizeMB: b.sizeBytes / 1e6, buildSec: b.seconds };
}

/** Earlier bench images of `kind` (other bundles): each is a full copy of the filesystem on vfs. Ones in use stay. */
async function removeOlderBenchImages(docker: DockerClient, kind: ImageKind, keep: string): Promise<void> {
  const refs = await new Promise<string[]>((resolve) =>
    execFile('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `kubeedge-ts/${kind}`], (err, out) =>
      resolve(err ? [] : out.split('\n').filter((r) => /:bench-[0-9a-f]+$/.test(r) && !r.endsWith(`:${keep}`))),
    ),
  );
  for (const r of refs) await docker.removeImage(r).catch(() => undefined);
}

/** Removes what this run's instance made (containers, the cloud's volume, the state directory). */
async function cleanUp(docker: DockerClient, instance: string, stateRoot: string): Promise<void> {
  const ours = await docker.listContainers({ all: true, labels: [`${INSTANCE_LABEL}=${instance}`] }).catch(() => []);
  // edgecore first, so nothing reconnects to a cloud being removed
  const order = [...ours.filter((c) => c.Names.some((n) => n.includes('edgecore'))), ...ours.filter((c) => !c.Names.some((n) => n.includes('edgecore')))];
  for (const c of order) await docker.removeContainer(c.Id, { force: true, volumes: true }).catch(() => undefined);
  for (const v of await docker.listVolumes([`${INSTANCE_LABEL}=${instance}`]).catch(() => [])) await docker.removeVolume(v.Name).catch(() => undefined);
  rmSync(stateRoot, { recursive: true, force: true });
}

function usageRows(who: string, u: ContainerUsage): Array<{ metric: string; value: string; note: string }> {
  return [
    {
      metric: `${who} in its container: RSS`,
      value: `${fmt(u.rssMiBMax)} MiB`,
      note: `max of the node process's VmRSS over ${fmt(u.windowMs / 1000)} s (mean ${fmt(u.rssMiBMean)}, min ${fmt(u.rssMiBMin)}; anon ${fmt(u.rssAnonMiB)} + file ${fmt(u.rssFileMiB)}; ${u.procSamples} samples; tini + node ${fmt(u.allProcsRssMiBMax)})`,
    },
    {
      metric: `${who} in its container: docker stats`,
      value: `${fmt(u.dockerStatsMiBMax)} MiB`,
      note: `max of the engine's memory figure (cgroup usage less inactive file cache; mean ${fmt(u.dockerStatsMiBMean)}; ${u.statsSamples} readings)`,
    },
    {
      metric: `${who} in its container: CPU`,
      value: `${fmt(u.cpuPct, 2)} %`,
      note: `of one core, the container's processes from /proc over the window (engine's accounting: ${fmt(u.dockerCpuPct, 2)} %)`,
    },
  ];
}

export async function imagesBench(o: ImagesOptions, out: BenchOutcome): Promise<void> {
  const errors: Record<string, number> = { edgeNotReady: 0 };
  out.errors = errors;
  const dockerState = await ensureDocker();
  const docker = new DockerClient();
  let base = BASE_IMAGE;
  if ((await docker.imageFacts(BASE_IMAGE)) === undefined) {
    const r = await ensureBaseImage({ docker });
    base = r.image;
    out.notes?.push(`made the local base image ${r.image} in ${fmt(r.seconds)} s (once per engine)`);
  }
  const cloudImg = await ensureImage(docker, 'cloudcore', base);
  const edgeImg = await ensureImage(docker, 'edgecore', base);
  const entrypoint = async (image: string) => (await docker.inspectImage(image)).Config?.Entrypoint ?? [];
  out.params = {
    edgeWindowMs: o.edgeWindowMs,
    cloudWindowMs: o.cloudWindowMs,
    settleMs: o.settleMs,
    baseImage: base,
    cloudcoreImage: cloudImg.image,
    edgecoreImage: edgeImg.image,
    cloudcoreEntrypoint: await entrypoint(cloudImg.image),
    edgecoreEntrypoint: await entrypoint(edgeImg.image),
    howRun: 'keadm init + keadm join as keadm up runs them (embedded API server, CloudStream/EdgeStream on), no pods',
    dockerEngine: dockerState,
  };
  for (const [k, b] of [
    ['cloudcore', cloudImg],
    ['edgecore', edgeImg],
  ] as const) {
    out.rows.push({
      metric: `${k} image`,
      value: `${fmt(b.sizeMB)} MB`,
      note: `${b.image}; ${b.buildSec === null ? 'present (same bundle and Dockerfile)' : `built by keadm's image builder in ${fmt(b.buildSec)} s`}`,
    });
  }

  const instance = `bench${process.pid}`;
  const stateRoot = path.join(o.workDir, 'images');
  const quiet = () => {};
  try {
    const ports = { ws: await freePort(), https: await freePort(), api: await freePort(), tunnel: await freePort() };
    const t0 = performance.now();
    const init = await keadmInit({
      docker,
      instance,
      configDir: path.join(stateRoot, 'cloud', 'etc'),
      advertiseAddress: '127.0.0.1',
      websocketPort: ports.ws,
      httpsPort: ports.https,
      apiserverPort: ports.api,
      tunnelPort: ports.tunnel,
      image: cloudImg.image,
      log: quiet,
    });
    const cloudUpMs = performance.now() - t0;
    let token = '';
    for (const deadline = Date.now() + 30_000; token === '' && Date.now() < deadline; ) {
      token = await getToken({ kubeConfig: init.kubeConfig }).catch(() => '');
      if (token === '') await sleep(500);
    }
    if (token === '') throw new Error('no join token from the cloudcore container within 30 s');
    const t1 = performance.now();
    await keadmJoin({
      docker,
      instance,
      cloudcoreIpPort: `127.0.0.1:${init.websocketPort}`,
      certPort: init.httpsPort,
      token,
      nodeName: NODE,
      runtimeEndpoint: docker.endpoint,
      privileged: false,
      dirs: stateRootDirs(path.join(stateRoot, NODE)),
      metricsPort: await freePort(),
      ...(init.tunnelPort !== undefined ? { stream: { server: `127.0.0.1:${init.tunnelPort}`, kubeletPort: await freePort() } } : {}),
      image: edgeImg.image,
      kubeConfig: init.kubeConfig,
      timeoutMs: 120_000,
      log: quiet,
    }).catch((err: unknown) => {
      errors['edgeNotReady'] = 1;
      throw err;
    });
    const edgeReadyMs = performance.now() - t1;
    out.rows.push(
      {
        metric: 'cloudcore container up',
        value: `${fmt(cloudUpMs / 1000, 2)} s`,
        note: 'keadm init: create to /ca.crt served and the admin kubeconfig written',
      },
      {
        metric: 'edgecore container to node Ready',
        value: `${fmt(edgeReadyMs / 1000, 2)} s`,
        note: 'keadm join: create to Ready in the API (incl. enrolment)',
      },
    );
    await sleep(o.settleMs);
    // One window for both: the cloud's (shorter) is the end of the edge's, so the edge's 3 minutes stay undisturbed
    // by anything but the sampling and the idle cloud itself.
    const edgeId = edgeContainerName(instance, NODE);
    const cloudId = cloudContainerName(instance);
    const edgeP = measureContainer(docker, edgeId, { windowMs: o.edgeWindowMs });
    const cloudP = sleep(Math.max(0, o.edgeWindowMs - o.cloudWindowMs)).then(() => measureContainer(docker, cloudId, { windowMs: o.cloudWindowMs }));
    const [edge, cloud] = await Promise.all([edgeP, cloudP]);
    out.figures = {
      edgecoreContainer: edge,
      cloudcoreContainer: cloud,
      cloudUpMs,
      edgeReadyMs,
      imageSizeMB: { cloudcore: cloudImg.sizeMB, edgecore: edgeImg.sizeMB },
    };
    out.rows.push(...usageRows('edgecore', edge), ...usageRows('cloudcore', cloud));
  } finally {
    await cleanUp(docker, instance, stateRoot);
  }
}
