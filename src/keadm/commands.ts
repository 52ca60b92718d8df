/** Registers the container commands (image, init, join, up, reset, doctor) on keadm's commander program. */
import { type Command, Option } from 'commander';
import { DOCKER_ENDPOINT } from '../containers/index.ts';
import { DEFAULT_INSTANCE, EXIT, KeadmError, docker, stdoutLine, validateInstance } from './common.ts';
import { ensureBaseImage, mb } from './image/base.ts';
import { buildImages } from './image/build.ts';
import { keadmInit, type InitOptions } from './init.ts';
import { defaultChartValues } from './chart.ts';
import { keadmInitInCluster } from './incluster.ts';
import { DEFAULT_EDGE_DIRS, defaultNodeName, keadmJoin, stateRootDirs } from './join.ts';
import { keadmUp, type UpOptions } from './up.ts';
import { DEFAULT_MESH_INTERFACE, DEFAULT_MESH_PORT, DEFAULT_TUNNEL_PORT } from './edgemesh.ts';
import { DEFAULT_MQTT_PORT, parseMappers } from './mappers.ts';
import { keadmReset } from './reset.ts';
import { keadmDoctor } from './doctor.ts';

const EXIT_HELP = `\nExit codes: 0 done, 1 failed, 2 usage error, 3 refused (already exists, or needs --force).`;

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new KeadmError(`${name} must be an integer 0..65535, got ${JSON.stringify(v)}`, EXIT.usage);
    return n;
  };
}

const endpointOption = () =>
  new Option('--runtime-endpoint <url>', 'the Docker engine keadm talks to').default(process.env['DOCKER_ENDPOINT'] ?? DOCKER_ENDPOINT);
const instanceOption = () =>
  new Option('--instance <name>', 'name of this installation: labels and container names; several can share one engine').default(DEFAULT_INSTANCE);

/**
 * What commander hands an action whose flags are named like the command's options: those options without the
 * engine client, logger and test-only timeout, `--runtime-endpoint` instead of the client, and the boolean
 * switches optional (commander leaves an unset switch out).
 */
type CliFlags<O, Switches extends keyof O = never> = Omit<O, 'docker' | 'log' | 'timeoutMs' | Switches> & {
  [K in Switches]?: O[K];
} & { runtimeEndpoint: string };

/** Sets process.exitCode for commands whose result is an exit code (doctor). */
export function registerContainerCommands(program: Command): void {
  const image = program.command('image').description('build the kubeedge-ts images locally');
  image
    .command('build')
    .description('build kubeedge-ts/cloudcore and kubeedge-ts/edgecore from dist/ and build/*/Dockerfile through the Docker Engine API')
    .option('--base-image <image>', 'base image (default: kubeedge-ts/node-base:24-bookworm when present, else node:24-bookworm-slim)')
    .option('--tag <tag>', 'image tag (default: the keadm version)')
    .option('--source-dir <dir>', 'repository root holding dist/ and build/')
    .addOption(endpointOption())
    .addHelpText('after', EXIT_HELP)
    .action(async (o: { baseImage?: string; tag?: string; sourceDir?: string; runtimeEndpoint: string }) => {
      const built = await buildImages({
        docker: docker(o.runtimeEndpoint),
        ...(o.baseImage !== undefined ? { baseImage: o.baseImage } : {}),
        ...(o.tag !== undefined ? { tag: o.tag } : {}),
        ...(o.sourceDir !== undefined ? { sourceDir: o.sourceDir } : {}),
        log: stdoutLine,
      });
      for (const b of built) stdoutLine(`${b.image}\t${mb(b.sizeBytes)}\t${b.seconds.toFixed(1)} s`);
    });
  image
    .command('base')
    .description("make the local base image kubeedge-ts/node-base:24-bookworm from Debian's archive (no registry needed; needs root)")
    .option('--force', 'rebuild even if the image exists')
    .option('--mirror <url>', 'Debian mirror (default: the one apt uses here)')
    .addOption(endpointOption())
    .addHelpText('after', EXIT_HELP)
    .action(async (o: { force?: boolean; mirror?: string; runtimeEndpoint: string }) => {
      const r = await ensureBaseImage({
        docker: docker(o.runtimeEndpoint),
        force: o.force === true,
        ...(o.mirror !== undefined ? { mirror: o.mirror } : {}),
        log: stdoutLine,
      });
      stdoutLine(`${r.image}\t${mb(r.sizeBytes)}\t${r.built ? `built in ${r.seconds.toFixed(1)} s` : 'present'}`);
    });

  program
    .command('init')
    .description('run cloudcore in a container (embedded API server unless --kube-config names a real cluster)')
    .option('--kube-config <file>', 'kubeconfig of a real cluster (mounted read-only); default: the embedded API server')
    .option('--advertise-address <ip>', "address edge nodes reach cloudcore at (default: this host's first IPv4)")
    .option('--config-dir <dir>', 'host directory mounted at /etc/kubeedge', '/etc/kubeedge')
    .option('--websocket-port <port>', 'CloudHub websocket port (published at the same number)', int('--websocket-port'), 10000)
    .option('--https-port <port>', 'certificate service port (published at the same number)', int('--https-port'), 10002)
    .option('--apiserver-port <port>', 'embedded API server port (published on 127.0.0.1)', int('--apiserver-port'), 6443)
    .option('--tunnel-port <port>', 'CloudStream tunnel port for kubectl logs/exec (embedded mode; published at the same number)', int('--tunnel-port'), 10004)
    .option('--image <image>', 'cloudcore image (default: kubeedge-ts/cloudcore:<version>)')
    .option('--in-cluster', 'run cloudcore inside the cluster of --kube-config (Helm chart manifests/charts/cloudcore)')
    .option('--dry-run', 'with --in-cluster: print the manifests instead of installing them')
    .addOption(instanceOption())
    .addOption(endpointOption())
    .addHelpText('after', EXIT_HELP)
    .action(async (o: CliFlags<InitOptions> & { inCluster?: boolean; dryRun?: boolean }) => {
      if (o.dryRun === true && o.inCluster !== true) throw new KeadmError('--dry-run goes with --in-cluster', EXIT.usage);
      if (o.inCluster === true) {
        const values = defaultChartValues();
        if (o.advertiseAddress !== undefined) values.advertiseAddress = [o.advertiseAddress];
        if (o.image !== undefined) {
          const at = o.image.lastIndexOf(':');
          values.image = { ...values.image, repository: at > 0 ? o.image.slice(0, at) : o.image, tag: at > 0 ? o.image.slice(at + 1) : 'latest' };
        }
        values.websocketPort = o.websocketPort;
        values.httpsPort = o.httpsPort;
        const kubeConfig = o.kubeConfig ?? process.env['KUBECONFIG'] ?? `${process.env['HOME'] ?? '/root'}/.kube/config`;
        await keadmInitInCluster({ kubeConfig, values, dryRun: o.dryRun === true, log: stdoutLine });
        return;
      }
      await keadmInit({
        docker: docker(o.runtimeEndpoint),
        instance: validateInstance(o.instance),
        configDir: o.configDir,
        ...(o.kubeConfig !== undefined ? { kubeConfig: o.kubeConfig } : {}),
        ...(o.advertiseAddress !== undefined ? { advertiseAddress: o.advertiseAddress } : {}),
        ...(o.image !== undefined ? { image: o.image } : {}),
        websocketPort: o.websocketPort,
        httpsPort: o.httpsPort,
        apiserverPort: o.apiserverPort,
        tunnelPort: o.tunnelPort,
        log: stdoutLine,
      });
    });

  program
    .command('join')
    .description('run edgecore in a container: host network, NET_ADMIN+NET_RAW, engine socket and state at the same paths')
    .requiredOption('--cloudcore-ipport <ip:port>', "cloudcore's websocket address, e.g. 192.168.1.10:10000")
    .requiredOption('--token <token>', 'join token from `keadm gettoken`')
    .option('--node-name <name>', 'node name (default: the hostname)')
    .option('--certport <port>', "cloudcore's certificate port", int('--certport'), 10002)
    .option('--tunnel-server <ip:port>', "CloudStream's tunnel (e.g. 192.168.1.10:10004): turns EdgeStream on for kubectl logs/exec")
    .option('--kubelet-port <port>', "edged's kubelet API port on 127.0.0.1 (with --tunnel-server)", int('--kubelet-port'), 10350)
    .option('--remote-runtime-endpoint <url>', 'container engine socket edgecore uses (mounted at the same path)', DOCKER_ENDPOINT)
    .option('--privileged', 'run privileged instead of adding NET_ADMIN and NET_RAW (fails on hosts that withhold a capability)')
    .option('--config-dir <dir>', 'edgecore config and certificates (same path inside)', DEFAULT_EDGE_DIRS.configDir)
    .option('--data-dir <dir>', 'edgecore database (same path inside)', DEFAULT_EDGE_DIRS.dataDir)
    .option('--pod-root <dir>', 'pod volume root, edged.rootDirectory (same path inside)', DEFAULT_EDGE_DIRS.podRoot)
    .option('--state-root <dir>', 'put config, data and pods under <dir>/{etc,data,pods} (several nodes on one host)')
    .option('--kube-config <file>', 'wait until the node is Ready in this cluster')
    .option('--image <image>', 'edgecore image (default: kubeedge-ts/edgecore:<version>)')
    .option('--edgemesh', 'enable EdgeMesh (Service DNS and proxy; relay through cloudcore port 10004)')
    .option('--edgemesh-interface <name>', "EdgeMesh's listenInterface, the bridge the pods are on", DEFAULT_MESH_INTERFACE)
    .option('--edgemesh-port <port>', "EdgeMesh's node-to-node peer port (listenPort)", int('--edgemesh-port'), DEFAULT_MESH_PORT)
    .addOption(instanceOption())
    .addOption(endpointOption())
    .addHelpText('after', EXIT_HELP)
    .action(
      async (o: {
        edgemesh?: boolean;
        edgemeshInterface: string;
        edgemeshPort: number;
        cloudcoreIpport: string;
        token: string;
        nodeName?: string;
        certport: number;
        tunnelServer?: string;
        kubeletPort: number;
        remoteRuntimeEndpoint: string;
        privileged?: boolean;
        configDir: string;
        dataDir: string;
        podRoot: string;
        stateRoot?: string;
        kubeConfig?: string;
        image?: string;
        instance: string;
        runtimeEndpoint: string;
      }) => {
        await keadmJoin({
          docker: docker(o.runtimeEndpoint),
          instance: validateInstance(o.instance),
          cloudcoreIpPort: o.cloudcoreIpport,
          certPort: o.certport,
          token: o.token,
          nodeName: o.nodeName ?? defaultNodeName(),
          runtimeEndpoint: o.remoteRuntimeEndpoint,
          privileged: o.privileged === true,
          dirs: o.stateRoot !== undefined ? stateRootDirs(o.stateRoot) : { configDir: o.configDir, dataDir: o.dataDir, podRoot: o.podRoot },
          ...(o.kubeConfig !== undefined ? { kubeConfig: o.kubeConfig } : {}),
          ...(o.image !== undefined ? { image: o.image } : {}),
          ...(o.edgemesh === true
            ? {
                edgeMesh: {
                  listenInterface: o.edgemeshInterface,
                  listenPort: o.edgemeshPort,
                  tunnelServer: `${o.cloudcoreIpport.replace(/:\d+$/, '')}:${DEFAULT_TUNNEL_PORT}`,
                },
              }
            : {}),
          ...(o.tunnelServer !== undefined ? { stream: { server: o.tunnelServer, kubeletPort: o.kubeletPort } } : {}),
          log: stdoutLine,
        });
      },
    );

  program
    .command('up')
    .description('one machine, one command: build images if missing, run cloudcore, join N edge nodes, wait until Ready')
    .option('--edge-nodes <n>', 'number of edge nodes (edge-node-1..N)', (v) => Number(v), 1)
    .option('--state-root <dir>', 'host directory for all state (per-node subdirectories)', '/var/lib/kubeedge-ts')
    .option('--advertise-address <ip>', "address edge nodes reach cloudcore at (default: this host's first IPv4)")
    .option('--websocket-port <port>', 'CloudHub websocket port', int('--websocket-port'), 10000)
    .option('--https-port <port>', 'certificate service port', int('--https-port'), 10002)
    .option('--apiserver-port <port>', 'embedded API server port (on 127.0.0.1)', int('--apiserver-port'), 6443)
    .option('--tunnel-port <port>', 'CloudStream tunnel port for kubectl logs/exec', int('--tunnel-port'), 10004)
    .option('--kubelet-port <port>', "edge node 1's kubelet API port on 127.0.0.1 (node i: this + i - 1)", int('--kubelet-port'), 10350)
    .option('--base-image <image>', 'base image for the build (default: the local base, made if missing)')
    .option('--rebuild', 'rebuild the images even if present')
    .option('--privileged', 'run edge containers privileged instead of adding NET_ADMIN and NET_RAW')
    .option('--with-mapper <list>', 'mappers to run beside every edge node, comma-separated: virtual, modbus (turns on DeviceTwin, DMI and MQTT there)')
    .option('--mqtt-port <port>', "edge node 1's embedded MQTT broker port (node i: this + i - 1)", int('--mqtt-port'), DEFAULT_MQTT_PORT)
    .option('--edgemesh', 'enable EdgeMesh on every edge node, each with its own Docker network and peer port 40001 + i - 1')
    .addOption(instanceOption())
    .addOption(endpointOption())
    .addHelpText('after', EXIT_HELP)
    .action(async (o: CliFlags<UpOptions, 'rebuild' | 'privileged'> & { withMapper?: string; mqttPort: number; edgemesh?: boolean }) => {
      await keadmUp({
        docker: docker(o.runtimeEndpoint),
        instance: validateInstance(o.instance),
        edgeNodes: o.edgeNodes,
        stateRoot: o.stateRoot,
        ...(o.advertiseAddress !== undefined ? { advertiseAddress: o.advertiseAddress } : {}),
        ...(o.baseImage !== undefined ? { baseImage: o.baseImage } : {}),
        websocketPort: o.websocketPort,
        httpsPort: o.httpsPort,
        apiserverPort: o.apiserverPort,
        tunnelPort: o.tunnelPort,
        kubeletPort: o.kubeletPort,
        rebuild: o.rebuild === true,
        privileged: o.privileged === true,
        withMappers: parseMappers(o.withMapper),
        mqttPort: o.mqttPort,
        edgeMesh: o.edgemesh === true,
        log: stdoutLine,
      });
    });

  program
    .command('reset')
    .description('remove what init/join/up made: containers, pod containers, volumes, state directories, iptables chains')
    .option('--force', 'do not ask before deleting data (required without a terminal)')
    .option('--keep-data', 'keep volumes and state directories')
    .addOption(instanceOption())
    .addOption(endpointOption())
    .addHelpText('after', EXIT_HELP)
    .action(async (o: { force?: boolean; keepData?: boolean; instance: string; runtimeEndpoint: string }) => {
      await keadmReset({
        docker: docker(o.runtimeEndpoint),
        instance: validateInstance(o.instance),
        force: o.force === true,
        keepData: o.keepData === true,
        log: stdoutLine,
      });
    });

  program
    .command('doctor')
    .description('check this host for running edgecore (--edge, default) or cloudcore (--cloud): one line per check with the fix')
    .option('--edge', 'check for edgecore')
    .option('--cloud', 'check for cloudcore')
    .option('--config <file>', 'edgecore.yaml / cloudcore.yaml to check against (default under /etc/kubeedge/config)')
    .option('--runtime-endpoint <url>', 'container engine socket (default: from the config)')
    .option('--kube-config <file>', 'kubeconfig to validate (--cloud)')
    .addHelpText('after', '\nExit codes: 0 nothing would break, 1 something would (see the FAIL lines), 2 usage error.')
    .action(async (o: { edge?: boolean; cloud?: boolean; config?: string; runtimeEndpoint?: string; kubeConfig?: string }) => {
      if (o.edge === true && o.cloud === true) throw new KeadmError('pass --edge or --cloud, not both', EXIT.usage);
      process.exitCode = await keadmDoctor({
        role: o.cloud === true ? 'cloud' : 'edge',
        ...(o.config !== undefined ? { config: o.config } : {}),
        ...(o.runtimeEndpoint !== undefined ? { runtimeEndpoint: o.runtimeEndpoint } : {}),
        ...(o.kubeConfig !== undefined ? { kubeConfig: o.kubeConfig } : {}),
        log: stdoutLine,
      });
    });
}
