/**
 * `keadm up`: one machine, one command. Images (and the local base) when missing, cloudcore, a token, N edge
 * nodes each with its own state directory, then waits until every node is Ready.
 */
import path from 'node:path';
import { getToken } from './gettoken.ts';
import type { DockerClient } from '../containers/index.ts';
import { EXIT, KeadmError, requireEngine, sleep, type Out } from './common.ts';
import { BASE_IMAGE, PUBLIC_BASE_IMAGE, ensureBaseImage } from './image/base.ts';
import { CONTENT_LABEL, IMAGE_KINDS, type ImageKind, type MapperProtocol, buildImages, contentDigest, imageRef, sourceRoot } from './image/build.ts';
import { keadmInit } from './init.ts';
import { keadmJoin, stateRootDirs, waitNodeReady } from './join.ts';
import { DEFAULT_MQTT_PORT, dmiSockOf, startMappers } from './mappers.ts';

export type UpOptions = {
  docker: DockerClient;
  instance: string;
  edgeNodes: number;
  stateRoot: string;
  advertiseAddress?: string;
  websocketPort: number;
  httpsPort: number;
  apiserverPort: number;
  baseImage?: string;
  rebuild: boolean;
  privileged: boolean;
  /** Mappers to run beside every edge node (--with-mapper); turns on DeviceTwin, DMI and the MQTT broker there. */
  withMappers?: readonly MapperProtocol[];
  /** Edge node i's embedded MQTT broker listens on this port plus i - 1. */
  mqttPort?: number;
  timeoutMs?: number;
  log: Out;
};

export type UpResult = { kubeConfig: string; nodes: string[]; containers: string[]; mqttBrokers: Record<string, string> };

export const edgeNodeName = (i: number) => `edge-node-${i}`;

export async function ensureImages(c: DockerClient, o: { baseImage?: string; rebuild: boolean; log: Out }): Promise<void> {
  // Missing, or built from other bundles than this checkout's (an image left by an older build would run old code).
  const root = sourceRoot();
  const stale: ImageKind[] = [];
  for (const k of IMAGE_KINDS) {
    const facts = await c.imageFacts(imageRef(k));
    const want = contentDigest(root, k);
    if (facts === undefined) stale.push(k);
    else if (want !== undefined && facts.Config?.Labels?.[CONTENT_LABEL] !== want) {
      o.log(`${imageRef(k)} was built from other bundles than dist/${k}.mjs: rebuilding it`);
      stale.push(k);
    }
  }
  if (stale.length === 0 && !o.rebuild) {
    o.log(`images ${IMAGE_KINDS.map((k) => imageRef(k)).join(', ')} present and current`);
    return;
  }
  let base = o.baseImage;
  if (base === undefined) {
    if ((await c.imageFacts(BASE_IMAGE)) !== undefined) base = BASE_IMAGE;
    else if ((await c.imageFacts(PUBLIC_BASE_IMAGE)) !== undefined) base = PUBLIC_BASE_IMAGE;
    else {
      o.log(`no base image present; making ${BASE_IMAGE} from Debian's archive (a few minutes, once)`);
      base = (await ensureBaseImage({ docker: c, log: (l) => o.log(`  ${l}`) })).image;
    }
  }
  const built = await buildImages({
    docker: c,
    baseImage: base,
    ...(o.rebuild ? {} : { kinds: stale }),
    log: (l) => {
      if (!l.startsWith('  ')) o.log(l);
    },
  });
  o.log(`images: ${built.map((b) => `${b.image} ${(b.sizeBytes / 1e6).toFixed(1)} MB in ${b.seconds.toFixed(1)} s`).join(', ')}`);
}

export async function keadmUp(o: UpOptions): Promise<UpResult> {
  const c = o.docker;
  const log = o.log;
  if (!Number.isInteger(o.edgeNodes) || o.edgeNodes < 0 || o.edgeNodes > 50) throw new KeadmError(`--edge-nodes must be 0..50, got ${o.edgeNodes}`, 2);
  log(`engine: ${await requireEngine(c)}`);
  await ensureImages(c, { ...(o.baseImage !== undefined ? { baseImage: o.baseImage } : {}), rebuild: o.rebuild, log });
  const root = path.resolve(o.stateRoot);
  const init = await keadmInit({
    docker: c,
    instance: o.instance,
    configDir: path.join(root, 'cloud', 'etc'),
    ...(o.advertiseAddress !== undefined ? { advertiseAddress: o.advertiseAddress } : {}),
    websocketPort: o.websocketPort,
    httpsPort: o.httpsPort,
    apiserverPort: o.apiserverPort,
    log: (l) => {
      if (!l.startsWith('kubectl ')) log(l);
    },
  });
  const token = await waitToken(init.kubeConfig, 30_000);
  log('got the join token');
  const nodes: string[] = [];
  const containers = [init.container];
  const mappers = o.withMappers ?? [];
  const mqttBase = o.mqttPort ?? DEFAULT_MQTT_PORT;
  if (!Number.isInteger(mqttBase) || mqttBase < 1 || mqttBase + o.edgeNodes - 1 > 65535)
    throw new KeadmError(`--mqtt-port must leave room for ${o.edgeNodes} ports below 65536`, 2);
  const mqttBrokers: Record<string, string> = {};
  for (let i = 1; i <= o.edgeNodes; i++) {
    const nodeName = edgeNodeName(i);
    const dirs = stateRootDirs(path.join(root, nodeName));
    const devices = mappers.length > 0 ? { dmiSockPath: dmiSockOf(dirs.configDir), mqttPort: mqttBase + i - 1 } : undefined;
    const j = await keadmJoin({
      docker: c,
      instance: o.instance,
      cloudcoreIpPort: `${init.advertiseAddress}:${init.websocketPort}`,
      certPort: init.httpsPort,
      token,
      nodeName,
      runtimeEndpoint: c.endpoint,
      privileged: o.privileged,
      dirs,
      ...(devices !== undefined ? { devices } : {}),
      log,
    });
    nodes.push(nodeName);
    containers.push(j.container);
    if (devices !== undefined) {
      containers.push(...(await startMappers({ docker: c, instance: o.instance, nodeName, protocols: mappers, dmiSockPath: devices.dmiSockPath, log })));
      mqttBrokers[nodeName] = `mqtt://127.0.0.1:${devices.mqttPort}`;
    }
  }
  for (const n of nodes) {
    await waitNodeReady(init.kubeConfig, n, o.timeoutMs ?? 120_000);
    log(`node ${n} is Ready`);
  }
  log('');
  log(`${nodes.length} edge node(s) Ready. Use the cluster with:`);
  log(`  export KUBECONFIG=${init.kubeConfig}`);
  log('  kubectl get nodes');
  if (nodes[0] !== undefined) log(`  kubectl run hello --image=<image> --overrides='{"spec":{"nodeName":"${nodes[0]}"}}'`);
  for (const [n, url] of Object.entries(mqttBrokers)) log(`${n} MQTT broker: ${url}  (mappers: ${mappers.join(', ')})`);
  if (nodes[0] !== undefined && mappers.length > 0) log(`  kubectl apply -f <device.yaml with spec.nodeName: ${nodes[0]}>; kubectl get device <name> -o yaml`);
  log(`Remove everything with: keadm reset --force${o.instance === 'default' ? '' : ` --instance ${o.instance}`}`);
  return { kubeConfig: init.kubeConfig, nodes, containers, mqttBrokers };
}

async function waitToken(kubeConfig: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await getToken({ kubeConfig });
    } catch (err) {
      if (Date.now() > deadline)
        throw new KeadmError(`no join token from cloudcore: ${err instanceof Error ? err.message : String(err)}`, EXIT.failed, {}, err);
      await sleep(500);
    }
  }
}
