/**
 * `keadm up --with-mapper virtual,modbus`: each mapper runs in its own container beside its edge node's edgecore,
 * on the host network (a Modbus device on the host's 127.0.0.1 is reachable) with the node's DMI socket directory
 * mounted at the same path, so the address a mapper registers is one edgecore can dial.
 */
import path from 'node:path';
import type { DockerClient } from '../containers/index.ts';
import { EXIT, INSTANCE_LABEL, KeadmError, NODE_LABEL, ROLE_LABEL, logTail, refuseIfExists, sleep, type Out } from './common.ts';
import { MAPPER_PROTOCOLS, type MapperProtocol, imageRef, mapperKind } from './image/build.ts';

/** KubeEdge's internal MQTT port; edge node i of `keadm up` gets this plus i - 1 unless --mqtt-port moves it. */
export const DEFAULT_MQTT_PORT = 1884;

export type EdgeDevices = { dmiSockPath: string; mqttPort: number };

/** Where an edge node's DMI socket lives: its own directory under the node's config dir, the one mappers mount. */
export const dmiSockOf = (configDir: string) => path.join(path.resolve(configDir), 'dmi', 'dmi.sock');

export function parseMappers(list: string | undefined): MapperProtocol[] {
  if (list === undefined || list.trim() === '') return [];
  const out: MapperProtocol[] = [];
  for (const raw of list.split(',')) {
    const p = raw.trim();
    if (!(MAPPER_PROTOCOLS as readonly string[]).includes(p))
      throw new KeadmError(`--with-mapper: unknown mapper ${JSON.stringify(p)} (known: ${MAPPER_PROTOCOLS.join(', ')})`, EXIT.usage);
    if (!out.includes(p as MapperProtocol)) out.push(p as MapperProtocol);
  }
  return out;
}

const mapperContainerName = (instance: string, node: string, p: MapperProtocol) => `${instance === 'default' ? '' : `${instance}-`}mapper-${p}-${node}`;

export async function startMappers(o: {
  docker: DockerClient;
  instance: string;
  nodeName: string;
  protocols: readonly MapperProtocol[];
  dmiSockPath: string;
  log: Out;
}): Promise<string[]> {
  const c = o.docker;
  const dir = path.dirname(o.dmiSockPath);
  const names: string[] = [];
  for (const p of o.protocols) {
    const name = mapperContainerName(o.instance, o.nodeName, p);
    await refuseIfExists(c, name, o.instance);
    const image = imageRef(mapperKind(p));
    if ((await c.imageFacts(image)) === undefined) throw new KeadmError(`image ${image} is missing (fix: keadm image build)`);
    const { Id } = await c.createContainer(name, {
      Image: image,
      Cmd: ['--edgecore-sock', o.dmiSockPath, '--sock', path.join(dir, `mapper-${p}.sock`), '--name', `${p}-mapper`],
      Labels: { [ROLE_LABEL]: 'mapper', [INSTANCE_LABEL]: o.instance, [NODE_LABEL]: o.nodeName },
      HostConfig: { NetworkMode: 'host', Binds: [`${dir}:${dir}`], RestartPolicy: { Name: 'unless-stopped' } },
    });
    await c.startContainer(Id);
    await sleep(500);
    const st = (await c.inspectContainer(Id)).State;
    if (!st.Running || st.Restarting) throw new KeadmError(`mapper ${name} exited with code ${st.ExitCode}:\n${await logTail(c, Id)}`);
    o.log(`started mapper ${name} (${image}, host network, DMI socket ${o.dmiSockPath})`);
    names.push(name);
  }
  return names;
}
