/**
 * `keadm init`: cloudcore in a container. Ports published at the same numbers inside and outside, /etc/kubeedge
 * bind-mounted from --config-dir, a named data volume, the embedded API server unless a real cluster is given.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { describeError } from '../core/errors.ts';
import { CLOUDCORE_API_VERSION, CLOUDCORE_KIND, detectHost } from '../config/index.ts';
import type { DockerClient } from '../containers/index.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { kubeEdgeCrds } from '../kube/crds.ts';
import { KubeRest } from '../kube/rest.ts';
import { checkPort } from '../edge/checks/index.ts';
import { applyObjects, clusterServer, describeApplied, flattenKubeConfig, probeApiServer, type ClusterServer } from './cluster.ts';
import { cloudcoreClusterRbac } from './cluster-rbac.ts';
import {
  EXIT,
  INSTANCE_LABEL,
  KeadmError,
  ROLE_LABEL,
  STATE_LABEL,
  cloudContainerName,
  cloudVolumeName,
  logTail,
  refuseIfExists,
  requireEngine,
  sleep,
  type Out,
} from './common.ts';
import { imageRef } from './image/build.ts';

export type InitOptions = {
  docker: DockerClient;
  instance: string;
  configDir: string;
  advertiseAddress?: string;
  kubeConfig?: string;
  websocketPort: number;
  httpsPort: number;
  apiserverPort: number;
  /** CloudStream's tunnel port (embedded mode turns CloudStream on and publishes it); default 10004. */
  tunnelPort?: number | undefined;
  image?: string;
  timeoutMs?: number;
  log: Out;
};

export type InitResult = {
  container: string;
  kubeConfig: string;
  advertiseAddress: string;
  websocketPort: number;
  httpsPort: number;
  tunnelPort: number | undefined;
};

/** In --config-dir: what init installed in the cluster, so reset removes exactly that. */
export const INSTALL_RECORD = 'cluster-install.json';
export type InstallRecord = { kubeConfig: string; objects: Array<{ ref: string; path: string; crd: boolean; created: boolean }> };

/** Inside the container: where the mounted cluster kubeconfig lives. */
const CLUSTER_KUBECONFIG = '/etc/kubeedge/cluster.kubeconfig';
export const DEFAULT_TUNNEL_PORT = 10004;

export function cloudCoreYaml(o: {
  advertiseAddress: string;
  websocketPort: number;
  httpsPort: number;
  apiserverPort: number;
  realCluster: boolean;
  tunnelPort?: number | undefined;
}): string {
  const cfg = {
    apiVersion: CLOUDCORE_API_VERSION,
    kind: CLOUDCORE_KIND,
    ...(o.realCluster ? { kubeAPIConfig: { kubeConfig: CLUSTER_KUBECONFIG } } : {}),
    modules: {
      cloudHub: {
        advertiseAddress: [o.advertiseAddress],
        websocket: { enable: true, address: '0.0.0.0', port: o.websocketPort },
        https: { enable: true, address: '0.0.0.0', port: o.httpsPort },
      },
      apiServer: o.realCluster
        ? { enable: false }
        : {
            enable: true,
            address: '0.0.0.0',
            port: o.apiserverPort,
            dataDir: '/var/lib/kubeedge/apiserver',
            adminKubeConfig: '/etc/kubeedge/admin.kubeconfig',
          },
      // Embedded mode: kubectl logs/exec/port-forward reach edges through the tunnel they dial. A real cluster keeps
      // KubeEdge's default (off): its kube-apiserver needs the stream certificates and the DNAT KubeEdge documents.
      ...(o.realCluster ? {} : { cloudStream: { enable: true, tunnelPort: o.tunnelPort ?? DEFAULT_TUNNEL_PORT } }),
    },
  };
  return `# Written by keadm init; paths are inside the cloudcore container (/etc/kubeedge is ${'the --config-dir'}).\n${stringify(cfg)}`;
}

/** GET /ca.crt on the certificate port: cloudcore serves once its PKI and listeners are up. */
export function caServed(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get({ host, port, path: '/ca.crt', rejectUnauthorized: false, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** The admin kubeconfig with its server pointed at the published API port, for kubectl on this host. */
export function hostKubeConfig(text: string, server: string): string {
  const kc = parse(text) as { clusters?: Array<{ cluster?: { server?: string } }> };
  for (const c of kc.clusters ?? []) if (c.cluster !== undefined) c.cluster.server = server;
  return stringify(kc);
}

/** Any HTTP answer from the server within 5 s, asked by node inside the container; no certificate check (reachability only). */
const PROBE_SCRIPT = `const u=new URL(process.argv[1]);const m=u.protocol==='https:'?require('node:https'):require('node:http');
const r=m.get(u.origin+'/version',{rejectUnauthorized:false,timeout:5000},(res)=>{res.resume();process.exit(0)});
r.on('timeout',()=>r.destroy(new Error('no answer in 5 s')));r.on('error',(e)=>{console.log(e.message);process.exit(1)});`;

/** Why the container cannot reach the server, or undefined when it can (or the probe itself cannot run). */
async function probeFromContainer(c: DockerClient, id: string, server: string): Promise<string | undefined> {
  try {
    const exec = await c.execCreate(id, ['node', '-e', PROBE_SCRIPT, server]);
    const out = await c.execStart(exec, 15_000);
    const code = (await c.execInspect(exec)).ExitCode;
    return code === 1 ? out.stdout.trim() || 'no answer' : undefined;
  } catch {
    // No exec (a container already restarting): the wait below reports what cloudcore logs.
    return undefined;
  }
}

/** Keeps what an earlier init created: a re-run that finds objects present must not forget they were ours. */
function mergeInstallRecord(file: string, rec: InstallRecord): void {
  let prev: InstallRecord | undefined;
  try {
    prev = JSON.parse(readFileSync(file, 'utf8')) as InstallRecord;
  } catch {
    /* first init */
  }
  const createdBefore = new Set((prev?.objects ?? []).filter((x) => x.created).map((x) => x.ref));
  const merged = { ...rec, objects: rec.objects.map((x) => ({ ...x, created: x.created || createdBefore.has(x.ref) })) };
  writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
}

export async function keadmInit(o: InitOptions): Promise<InitResult> {
  const c = o.docker;
  const log = o.log;
  log(`engine: ${await requireEngine(c)}`);
  const name = cloudContainerName(o.instance);
  await refuseIfExists(c, name, o.instance);
  const image = o.image ?? imageRef('cloudcore');
  if ((await c.imageFacts(image)) === undefined) throw new KeadmError(`image ${image} is missing (fix: keadm image build)`);
  const advertiseAddress = o.advertiseAddress ?? detectHost().ip;
  const realCluster = o.kubeConfig !== undefined;
  if (realCluster && !existsSync(o.kubeConfig!)) throw new KeadmError(`--kube-config ${o.kubeConfig} does not exist`, EXIT.usage);
  let server: ClusterServer | undefined;
  let installed: InstallRecord | undefined;
  if (realCluster) {
    const kubeConfigFile = path.resolve(o.kubeConfig!);
    const kc = loadKubeConfig({ kubeConfig: kubeConfigFile });
    server = clusterServer(kc);
    const kube = new KubeRest(kc);
    try {
      await probeApiServer(kube, server, o.kubeConfig!);
      if (server.loopback) {
        // 127.0.0.1 inside a bridged container is the container itself: share the host's network instead.
        for (const [port, what] of [
          [o.websocketPort, 'cloudHub websocket'],
          [o.httpsPort, 'cloudHub https'],
        ] as const) {
          const r = await checkPort(port, what);
          if (r.status === 'fail') throw new KeadmError(`host port ${r.detail} (fix: ${r.fix ?? 'choose another port'})`);
        }
        log(
          `the API server ${server.url} is on this host's loopback: cloudcore runs on the host network and uses host ports ${o.websocketPort} (websocket) and ${o.httpsPort} (certificates)`,
        );
      }
      // As KubeEdge's keadm init does: the cluster gets KubeEdge's CRDs and cloudcore's RBAC before cloudcore
      // starts (cloudcore brings the CRDs up to date itself too, so an upgrade of either side works).
      const crds = await applyObjects(kube, kubeEdgeCrds());
      log(describeApplied("KubeEdge's CustomResourceDefinitions (Established)", crds));
      const rbac = await applyObjects(kube, cloudcoreClusterRbac());
      log(describeApplied("cloudcore's RBAC", rbac));
      installed = {
        kubeConfig: kubeConfigFile,
        objects: [
          ...crds.map((a) => ({ ref: a.ref, path: a.path, crd: true, created: a.result === 'created' })),
          ...rbac.map((a) => ({ ref: a.ref, path: a.path, crd: false, created: a.result === 'created' })),
        ],
      };
    } catch (err) {
      if (err instanceof KeadmError) throw err;
      throw new KeadmError(
        `cannot install KubeEdge's CRDs and RBAC with --kube-config ${o.kubeConfig}: ${describeError(err)}`,
        EXIT.failed,
        { kubeConfig: o.kubeConfig },
        err,
      );
    } finally {
      kube.close();
    }
  }

  const configDir = path.resolve(o.configDir);
  mkdirSync(path.join(configDir, 'config'), { recursive: true });
  const configFile = path.join(configDir, 'config', 'cloudcore.yaml');
  writeFileSync(
    configFile,
    cloudCoreYaml({
      advertiseAddress,
      websocketPort: o.websocketPort,
      httpsPort: o.httpsPort,
      apiserverPort: o.apiserverPort,
      realCluster,
      ...(o.tunnelPort === undefined ? {} : { tunnelPort: o.tunnelPort }),
    }),
  );
  log(
    `wrote ${configFile} (advertiseAddress ${advertiseAddress}, websocket ${o.websocketPort}, https ${o.httpsPort}${realCluster ? ', real cluster' : `, embedded API server ${o.apiserverPort}`})`,
  );

  const volume = cloudVolumeName(o.instance);
  await c.createVolume(volume, { [ROLE_LABEL]: 'cloudcore', [INSTANCE_LABEL]: o.instance });
  if (installed !== undefined) mergeInstallRecord(path.join(configDir, INSTALL_RECORD), installed);
  const hostNetwork = server?.loopback === true;
  const tunnelPort = realCluster ? undefined : (o.tunnelPort ?? DEFAULT_TUNNEL_PORT);
  const ports = hostNetwork ? [] : [o.websocketPort, o.httpsPort, ...(tunnelPort === undefined ? [] : [tunnelPort])];
  const portBindings: Record<string, Array<{ HostIp?: string; HostPort: string }>> = {};
  for (const p of ports) portBindings[`${p}/tcp`] = [{ HostPort: String(p) }];
  // The API server is for kubectl on this host; edge nodes never need it.
  if (!realCluster && !hostNetwork) portBindings[`${o.apiserverPort}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: String(o.apiserverPort) }];
  const binds = [`${configDir}:/etc/kubeedge`, `${volume}:/var/lib/kubeedge`];
  if (realCluster) {
    // The files a kubeconfig names are not in the container: mount a copy with their contents inlined.
    const src = path.resolve(o.kubeConfig!);
    const flat = path.join(configDir, 'cluster.kubeconfig');
    try {
      writeFileSync(
        flat,
        flattenKubeConfig(readFileSync(src, 'utf8'), path.dirname(src), (f) => readFileSync(f)),
        { mode: 0o600 },
      );
    } catch (err) {
      throw new KeadmError(`cannot read the files --kube-config ${o.kubeConfig} names: ${describeError(err)}`, EXIT.failed, { kubeConfig: o.kubeConfig }, err);
    }
    binds.push(`${flat}:${CLUSTER_KUBECONFIG}:ro`);
  }
  const { Id } = await c.createContainer(name, {
    Image: image,
    Cmd: ['--config', '/etc/kubeedge/config/cloudcore.yaml'],
    Labels: { [ROLE_LABEL]: 'cloudcore', [INSTANCE_LABEL]: o.instance, [STATE_LABEL]: configDir },
    ExposedPorts: Object.fromEntries(Object.keys(portBindings).map((k) => [k, {}])),
    HostConfig: {
      Binds: binds,
      ...(hostNetwork ? { NetworkMode: 'host' } : { PortBindings: portBindings }),
      RestartPolicy: { Name: 'unless-stopped' },
    },
  });
  await c.startContainer(Id);
  log(`started container ${name} (${image}); waiting for the certificate service on ${o.httpsPort}`);
  if (server !== undefined && !hostNetwork) {
    const why = await probeFromContainer(c, Id, server.url);
    if (why !== undefined) {
      await c.removeContainer(Id, { force: true, volumes: true }).catch(() => undefined);
      throw new KeadmError(
        `the API server ${server.url} answers this host but not cloudcore's container: ${why} (fix: use an address of the API server that containers reach, e.g. the host's IP instead of a name only this host resolves); container ${name} removed`,
        EXIT.failed,
        { server: server.url },
      );
    }
  }

  const deadline = Date.now() + (o.timeoutMs ?? 90_000);
  // cloudcore retries an unreachable API server for minutes; keadm gives up sooner, with the reason.
  const unreachableBy = Date.now() + 20_000;
  const adminFile = path.join(configDir, 'admin.kubeconfig');
  for (;;) {
    const st = (await c.inspectContainer(Id)).State;
    if (!st.Running && !st.Restarting) {
      throw new KeadmError(`cloudcore exited with code ${st.ExitCode}:\n${await logTail(c, Id)}`);
    }
    if ((await caServed(o.httpsPort)) && (realCluster || existsSync(adminFile))) break;
    if (server !== undefined && Date.now() > unreachableBy && /API server not reachable yet/.test(await logTail(c, Id, 5))) {
      await c.removeContainer(Id, { force: true, volumes: true }).catch(() => undefined);
      throw new KeadmError(
        `cloudcore in its container cannot reach the API server ${server.url}, although this host can (fix: use an address of the API server that containers reach, e.g. the host's IP instead of a name only this host resolves); container ${name} removed`,
        EXIT.failed,
        { server: server.url },
      );
    }
    if (Date.now() > deadline) throw new KeadmError(`cloudcore did not serve /ca.crt on ${o.httpsPort} in time:\n${await logTail(c, Id)}`);
    await sleep(500);
  }
  let kubeConfig: string;
  if (realCluster) {
    kubeConfig = path.resolve(o.kubeConfig!);
  } else {
    kubeConfig = path.join(configDir, 'kubeconfig');
    writeFileSync(kubeConfig, hostKubeConfig(readFileSync(adminFile, 'utf8'), `https://127.0.0.1:${o.apiserverPort}`), { mode: 0o600 });
  }
  log(`cloudcore is up: edge nodes join at ${advertiseAddress}:${o.websocketPort} (certificates on ${o.httpsPort})`);
  log(`kubectl --kubeconfig ${kubeConfig} get nodes`);
  return { container: name, kubeConfig, advertiseAddress, websocketPort: o.websocketPort, httpsPort: o.httpsPort, tunnelPort };
}
