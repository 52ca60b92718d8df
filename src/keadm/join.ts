/**
 * `keadm join`: edgecore in a container, with least privilege. Host network (EdgeMesh binds host interfaces),
 * NET_ADMIN + NET_RAW for iptables instead of --privileged, and every path the engine must resolve (its own
 * socket, the data dir, the pod volume root) bind-mounted at the same path inside and outside.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { defaultEdgeCoreConfig, EDGECORE_API_VERSION, EDGECORE_KIND, isNodeName } from '../config/index.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { KubeRest, paths } from '../kube/rest.ts';
import { socketPathOf, type DockerClient } from '../containers/index.ts';
import {
  EXIT,
  INSTANCE_LABEL,
  KeadmError,
  NODE_LABEL,
  POD_ROOT_LABEL,
  ROLE_LABEL,
  STATE_LABEL,
  edgeContainerName,
  logTail,
  refuseIfExists,
  requireEngine,
  sleep,
  type Out,
} from './common.ts';
import { ensureSandboxImage } from './image/busybox.ts';
import { imageRef } from './image/build.ts';
import type { EdgeDevices } from './mappers.ts';

export type EdgeDirs = { configDir: string; dataDir: string; podRoot: string };

/** KubeEdge's layout for one edge node per host. */
export const DEFAULT_EDGE_DIRS: EdgeDirs = { configDir: '/etc/kubeedge', dataDir: '/var/lib/kubeedge', podRoot: '/var/lib/kubelet' };

/** Per-node layout for several edge nodes on one host: nothing shared between them. */
export function stateRootDirs(stateRoot: string): EdgeDirs {
  const r = path.resolve(stateRoot);
  return { configDir: path.join(r, 'etc'), dataDir: path.join(r, 'data'), podRoot: path.join(r, 'pods') };
}

export type JoinOptions = {
  docker: DockerClient;
  instance: string;
  cloudcoreIpPort: string;
  certPort: number;
  token: string;
  nodeName: string;
  runtimeEndpoint: string;
  privileged: boolean;
  dirs: EdgeDirs;
  /** Devices on this node (keadm up --with-mapper): DeviceTwin, DMI and the embedded MQTT broker on. */
  devices?: EdgeDevices;
  image?: string;
  /** When given, join waits until the node is Ready. */
  kubeConfig?: string;
  timeoutMs?: number;
  log: Out;
};

export function edgeCoreYaml(o: {
  cloudcoreIpPort: string;
  certPort: number;
  token: string;
  nodeName: string;
  runtimeEndpoint: string;
  dirs: EdgeDirs;
  devices?: EdgeDevices | undefined;
}): string {
  const host = o.cloudcoreIpPort.replace(/:\d+$/, '');
  const { configDir, dataDir, podRoot } = o.dirs;
  const cfg = {
    apiVersion: EDGECORE_API_VERSION,
    kind: EDGECORE_KIND,
    database: { dataSource: path.join(dataDir, 'edgecore.db') },
    modules: {
      edged: {
        hostnameOverride: o.nodeName,
        rootDirectory: podRoot,
        tailoredKubeletConfig: { containerRuntimeEndpoint: o.runtimeEndpoint },
      },
      edgeHub: {
        token: o.token,
        httpServer: `https://${host}:${o.certPort}`,
        websocket: { enable: true, server: o.cloudcoreIpPort },
        tlsCaFile: path.join(configDir, 'ca', 'rootCA.crt'),
        tlsCertFile: path.join(configDir, 'certs', 'server.crt'),
        tlsPrivateKeyFile: path.join(configDir, 'certs', 'server.key'),
      },
      // mqttMode 0: the embedded broker only, on a port of its own so several edges on one host do not collide
      ...(o.devices !== undefined
        ? {
            deviceTwin: { enable: true, dmiSockPath: o.devices.dmiSockPath },
            eventBus: { enable: true, mqttMode: 0, mqttServerInternal: `tcp://127.0.0.1:${o.devices.mqttPort}` },
          }
        : {}),
    },
  };
  return `# Written by keadm join: only keys kubeedge-ts honours; every path is the same inside the edgecore container and on the host.\n${stringify(cfg)}`;
}

export async function waitNodeReady(kubeConfig: string, nodeName: string, timeoutMs: number): Promise<void> {
  const kube = new KubeRest(loadKubeConfig({ kubeConfig }));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        const node = await kube.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(paths.node(nodeName));
        if (node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
      } catch {
        /* not registered yet */
      }
      if (Date.now() > deadline) throw new KeadmError(`node ${nodeName} is not Ready after ${Math.round(timeoutMs / 1000)} s`);
      await sleep(1000);
    }
  } finally {
    kube.close();
  }
}

export async function keadmJoin(o: JoinOptions): Promise<{ container: string; configFile: string }> {
  const c = o.docker;
  const log = o.log;
  if (!isNodeName(o.nodeName))
    throw new KeadmError(`--node-name ${JSON.stringify(o.nodeName)} is not a valid node name (lowercase RFC 1123 subdomain)`, EXIT.usage);
  if (!/^[^:]+:\d+$/.test(o.cloudcoreIpPort)) throw new KeadmError(`--cloudcore-ipport must be IP:PORT, got ${JSON.stringify(o.cloudcoreIpPort)}`, EXIT.usage);
  if (o.token.split('.').length !== 4)
    throw new KeadmError('--token does not look like a KubeEdge join token (<ca hash>.<jwt>); get one with `keadm gettoken`', EXIT.usage);
  log(`engine: ${await requireEngine(c)}`);
  const name = edgeContainerName(o.instance, o.nodeName);
  await refuseIfExists(c, name, o.instance);
  const image = o.image ?? imageRef('edgecore');
  if ((await c.imageFacts(image)) === undefined) throw new KeadmError(`image ${image} is missing (fix: keadm image build)`);
  // Every pod starts with a sandbox container: make sure its image is there before the first pod comes.
  await ensureSandboxImage(c, defaultEdgeCoreConfig().modules.edged.podSandboxImage, log);

  const dirs: EdgeDirs = { configDir: path.resolve(o.dirs.configDir), dataDir: path.resolve(o.dirs.dataDir), podRoot: path.resolve(o.dirs.podRoot) };
  for (const d of [path.join(dirs.configDir, 'config'), dirs.dataDir, dirs.podRoot]) mkdirSync(d, { recursive: true });
  const configFile = path.join(dirs.configDir, 'config', 'edgecore.yaml');
  writeFileSync(configFile, edgeCoreYaml({ ...o, dirs }), { mode: 0o600 });
  log(`wrote ${configFile} (node ${o.nodeName}, cloud ${o.cloudcoreIpPort}, engine ${o.runtimeEndpoint})`);

  const socket = socketPathOf(o.runtimeEndpoint);
  const same = (p: string) => `${p}:${p}`;
  const { Id } = await c.createContainer(name, {
    Image: image,
    Cmd: ['--config', configFile],
    Labels: {
      [ROLE_LABEL]: 'edgecore',
      [INSTANCE_LABEL]: o.instance,
      [NODE_LABEL]: o.nodeName,
      [STATE_LABEL]: [dirs.configDir, dirs.dataDir, dirs.podRoot].join(','),
      [POD_ROOT_LABEL]: dirs.podRoot,
    },
    HostConfig: {
      NetworkMode: 'host',
      ...(o.privileged ? { Privileged: true } : { CapAdd: ['NET_ADMIN', 'NET_RAW'] }),
      Binds: [same(socket), same(dirs.configDir), same(dirs.dataDir), same(dirs.podRoot)],
      RestartPolicy: { Name: 'unless-stopped' },
    },
  });
  try {
    await c.startContainer(Id);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const hint = /caps|capabilit/i.test(msg) && o.privileged ? ' (this host withholds a capability --privileged asks for: join without --privileged)' : '';
    throw new KeadmError(`edgecore container ${name} did not start: ${msg}${hint}`, EXIT.failed, { container: name }, err);
  }
  log(`started container ${name} (${image}, host network, ${o.privileged ? 'privileged' : 'cap-add NET_ADMIN NET_RAW'})`);

  // A start-up check failure ends the process at once: catch it here with its one-line reasons.
  await sleep(2000);
  const st = (await c.inspectContainer(Id)).State;
  if (!st.Running || st.Restarting) throw new KeadmError(`edgecore exited with code ${st.ExitCode}:\n${await logTail(c, Id)}`);
  if (o.kubeConfig !== undefined) {
    log(`waiting for node ${o.nodeName} to be Ready`);
    await waitNodeReady(o.kubeConfig, o.nodeName, o.timeoutMs ?? 120_000).catch(async (err: unknown) => {
      throw new KeadmError(
        `${err instanceof Error ? err.message : String(err)}; edgecore says:\n${await logTail(c, Id)}`,
        EXIT.failed,
        { container: name },
        err,
      );
    });
    log(`node ${o.nodeName} is Ready`);
  }
  return { container: name, configFile };
}

export const defaultNodeName = (): string => os.hostname().toLowerCase();
