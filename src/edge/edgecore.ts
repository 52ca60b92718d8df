import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Bus } from '../core/bus.ts';
import { logger } from '../core/log.ts';
import { ModuleRuntime, type Module } from '../core/module.ts';
import { edgeRegistry } from '../metrics/edge.ts';
import { startMetricsServerOrWarn } from '../metrics/server.ts';
import { parseDuration, type EdgeCoreConfig } from '../config/index.ts';
import { assertEdgeEnvironment } from './checks/index.ts';
import { Edged } from './edged/edged.ts';
import { ensureEdgeCertificates } from './edgehub/certificate/bootstrap.ts';
import { CLOUD_REJECTED, EdgeCertError, TOKEN_CA_MISMATCH, TOKEN_MALFORMED, TOKEN_MISSING, TOKEN_REFUSED } from './edgehub/certificate/errors.ts';
import { rotateIfDue } from './edgehub/certificate/rotate.ts';
import { EdgeHub, type TlsMaterial } from './edgehub/edgehub.ts';
import { MetaManager } from './metamanager/metamanager.ts';
import type { MqttMode } from './eventbus/eventbus.ts';
import { EdgeGroups, EdgeModules } from './common/modules.ts';
import { detectNodeIP } from './edged/nodestatus/host-info.ts';
import { EDGEMESH_ENABLED, EDGEMESH_LABEL } from '../kube/labels.ts';

const log = logger('edgecore');

/**
 * KubeEdge's keadm join may leave the token in `/etc/kubeedge/bootstrap-edgecore.conf`, which its edgecore prefers
 * to the one in edgecore.yaml. We look for it in the config root the CA file sits in (`/etc/kubeedge/ca/rootCA.crt`
 * by default, so KubeEdge's path), so that an edge whose files live elsewhere (several nodes on one host, a test)
 * never picks up the host's token.
 */
export function bootstrapTokenFile(cfg: EdgeCoreConfig): string {
  return path.join(path.dirname(path.dirname(path.resolve(cfg.modules.edgeHub.tlsCaFile))), 'bootstrap-edgecore.conf');
}

/**
 * A module that is off, under the real one's name (the runtime logs it as disabled), without its code: the
 * optional modules are imported only when enabled, so an edge does not hold their libraries (gRPC, MQTT, DNS, the
 * tunnel) in memory for nothing.
 */
function off(name: string, group: string): Module {
  return { name, group, enabled: false, start: async () => {}, stop: async () => {} };
}

const FATAL_CERT_ERRORS = new Set([TOKEN_MISSING, TOKEN_MALFORMED, TOKEN_CA_MISMATCH, TOKEN_REFUSED, CLOUD_REJECTED]);

export type RunningEdgeCore = { stop(): Promise<void> };

function joinToken(cfg: EdgeCoreConfig): string {
  const file = bootstrapTokenFile(cfg);
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    if (t !== '') return t;
  }
  return cfg.modules.edgeHub.token;
}

/**
 * Assembles edgecore: MetaManager (the local store), EdgeHub (the cloud link, with certificate bootstrap before
 * each dial) and Edged, on one bus. Modules start in that order so nothing edged asks for is lost.
 */
export async function startEdgeCore(cfg: EdgeCoreConfig): Promise<RunningEdgeCore> {
  // What would break later (engine socket, same-path mounts, iptables, interfaces) stops us now, one line each.
  await assertEdgeEnvironment(cfg);
  const nodeName = cfg.modules.edged.hostnameOverride;
  const hub = cfg.modules.edgeHub;
  const kubelet = cfg.modules.edged.tailoredKubeletConfig;
  const bus = new Bus(logger('bus'));
  const runtime = new ModuleRuntime(bus, log);

  runtime.add(
    new MetaManager({
      enable: cfg.modules.metaManager.enable,
      dataSource: cfg.database.dataSource,
      remoteQueryTimeout: cfg.modules.metaManager.remoteQueryTimeout,
    }),
  );

  // DMI is part of KubeEdge's DeviceTwin: on with it, and registered before it so no device it hands over is lost.
  const twinOn = cfg.modules.deviceTwin.enable;
  if (twinOn) {
    const { DEFAULT_DMI_SOCK, DmiModule } = await import('./dmi/dmi.ts');
    runtime.add(new DmiModule({ enable: true, sockPath: cfg.modules.deviceTwin.dmiSockPath ?? DEFAULT_DMI_SOCK }));
  } else runtime.add(off('dmi', 'dmi'));

  // EventBus and DeviceTwin open their own tables in the same SQLite file; both start before EdgeHub so that the
  // first cloud_connected (which triggers the twin's membership/detail request) reaches them.
  const eb = cfg.modules.eventBus;
  runtime.add(
    !eb.enable
      ? off(EdgeModules.eventBus, EdgeGroups.bus)
      : new (await import('./eventbus/eventbus.ts')).EventBus({
          enable: true,
          nodeName,
          dataSource: cfg.database.dataSource,
          mqttMode: eb.mqttMode as MqttMode,
          mqttServerInternal: eb.mqttServerInternal,
          mqttServerExternal: eb.mqttServerExternal,
          mqttQOS: eb.mqttQOS as 0 | 1 | 2,
          mqttRetain: eb.mqttRetain,
          mqttSessionQueueSize: eb.mqttSessionQueueSize,
          mqttSubClientID: eb.mqttSubClientID,
          mqttPubClientID: eb.mqttPubClientID,
          mqttUsername: eb.mqttUsername,
          mqttPassword: eb.mqttPassword,
          tls: {
            enable: eb.eventBusTLS.enable,
            caFile: eb.eventBusTLS.tlsMqttCAFile,
            certFile: eb.eventBusTLS.tlsMqttCertFile,
            keyFile: eb.eventBusTLS.tlsMqttPrivateKeyFile,
          },
        }),
  );
  runtime.add(
    twinOn
      ? new (await import('./devicetwin/devicetwin.ts')).DeviceTwin({ enable: true, nodeName, dataSource: cfg.database.dataSource })
      : off(EdgeModules.deviceTwin, EdgeGroups.twin),
  );

  // After MetaManager (it loads what the store holds) and before EdgeHub (the cloud's Services reach it).
  const mesh = cfg.modules.edgeMesh;
  if (!mesh.enable) runtime.add(off(EdgeModules.edgeMesh, EdgeGroups.edgeMesh));
  else {
    const [{ EdgeMesh }, { dialTunnel }] = await Promise.all([import('./edgemesh/edgemesh.ts'), import('../stream/index.ts')]);
    runtime.add(
      new EdgeMesh({
        enable: true,
        nodeName,
        clusterDomain: kubelet.clusterDomain,
        lbStrategy: mesh.lbStrategy,
        listenInterface: mesh.listenInterface,
        subNet: mesh.subNet,
        listenPort: mesh.listenPort,
        dnsPort: mesh.dnsPort,
        upstreamResolvConf: mesh.upstreamResolvConf,
        proxy: {
          caFile: hub.tlsCaFile,
          certFile: hub.tlsCertFile,
          keyFile: hub.tlsPrivateKeyFile,
          tunnelServer: cfg.modules.edgeStream.server,
          advertiseIP: detectNodeIP(cfg.modules.edged.nodeIP),
          dialTunnel: (o) => dialTunnel({ ...o, log: logger('edgemesh-tunnel') }),
        },
      }),
    );
  }

  const certPaths = { httpServer: hub.httpServer, nodeName, caFile: hub.tlsCaFile, certFile: hub.tlsCertFile, keyFile: hub.tlsPrivateKeyFile };
  const certLog = logger('edgehub-cert');
  const tls = async (): Promise<TlsMaterial> => {
    const certs = await ensureEdgeCertificates({ ...certPaths, token: joinToken(cfg), log: certLog });
    if (!hub.rotateCertificates) return certs;
    const r = await rotateIfDue({ ...certPaths, log: certLog }).catch((err: unknown) => {
      certLog.warn({ err }, 'certificate rotation failed; keeping the current certificate');
      return undefined;
    });
    return r?.certs ?? certs;
  };
  // A first enrolment that can never succeed (no token, a token for another cloud, a rejected token) stops
  // edgecore now with the reason; a cloud that is merely unreachable is retried by EdgeHub in the background.
  if (hub.enable) {
    try {
      await tls();
    } catch (err) {
      if (err instanceof EdgeCertError && FATAL_CERT_ERRORS.has(err.code)) throw err;
      log.warn({ err }, 'cloud not reachable for certificate bootstrap yet; will keep trying');
    }
  }
  if (hub.quic.enable) log.warn('modules.edgeHub.quic is not supported; use websocket');
  // edgeHub.enable: false runs edgecore without a cloud link, as KubeEdge does (the config loader warned)
  if (hub.enable)
    runtime.add(
      new EdgeHub({
        server: hub.websocket.server,
        projectId: hub.projectID,
        nodeName,
        heartbeatSec: hub.heartbeat,
        handshakeTimeoutSec: hub.websocket.handshakeTimeout,
        tls,
      }),
    );

  runtime.add(
    new Edged({
      enable: cfg.modules.edged.enable,
      nodeName,
      registerNodeNamespace: cfg.modules.edged.registerNodeNamespace,
      nodeIP: cfg.modules.edged.nodeIP,
      // The cloud sends Services and endpoints to nodes that carry this label.
      nodeLabels: { ...cfg.modules.edged.nodeLabels, ...(mesh.enable ? { [EDGEMESH_LABEL]: EDGEMESH_ENABLED } : {}) },
      maxPods: kubelet.maxPods,
      nodeStatusUpdateFrequencyMs: parseDuration(kubelet.nodeStatusUpdateFrequency),
      nodeStatusReportFrequencyMs: parseDuration(kubelet.nodeStatusReportFrequency),
      nodeLeaseDurationSeconds: kubelet.nodeLeaseDurationSeconds,
      containerRuntimeEndpoint: kubelet.containerRuntimeEndpoint,
      ...(kubelet.podLogsDir !== undefined && kubelet.podLogsDir !== '' ? { podLogsDir: kubelet.podLogsDir } : {}),
      podSandboxImage: cfg.modules.edged.podSandboxImage,
      clusterDns: { servers: await clusterDnsServers(cfg), domain: kubelet.clusterDomain },
      rootDirectory: cfg.modules.edged.rootDirectory,
      ...(cfg.modules.edged.dockerNetwork !== undefined ? { dockerNetwork: cfg.modules.edged.dockerNetwork } : {}),
      kubeletPort: kubelet.readOnlyPort,
      streamIdleTimeoutMs: parseDuration(kubelet.streamingConnectionIdleTimeout),
      dataDirectory: path.dirname(cfg.database.dataSource),
      evictionHard: kubelet.evictionHard,
      evictionPressureTransitionPeriodMs: parseDuration(kubelet.evictionPressureTransitionPeriod),
    }),
  );

  const es = cfg.modules.edgeStream;
  if (es.enable) {
    const [{ EdgeStream }, { edgeStreamTls }] = await Promise.all([import('./edgestream/edgestream.ts'), import('./edgestream/tls.ts')]);
    runtime.add(
      new EdgeStream({
        enable: true,
        server: es.server,
        nodeName,
        ...(cfg.modules.edged.nodeIP === '' ? {} : { internalIP: cfg.modules.edged.nodeIP }),
        kubeletPort: kubelet.readOnlyPort,
        handshakeTimeoutSec: es.handshakeTimeout,
        readDeadlineSec: es.readDeadline,
        tls: edgeStreamTls(es, hub, tls),
      }),
    );
  }

  await runtime.start();
  const m = cfg.modules.metrics;
  const monitor = m.enable ? await startMetricsServerOrWarn({ bindAddress: m.bindAddress, registry: edgeRegistry, log: logger('monitor') }) : undefined;
  log.info({ node: nodeName, cloud: hub.websocket.server }, 'edgecore started');
  return {
    stop: async () => {
      await monitor?.close();
      await runtime.stop();
    },
  };
}

/**
 * The resolvers of ClusterFirst pods: `clusterDNS` when set (as the kubelet), else EdgeMesh's DNS on its interface
 * address when it runs on port 53 (an engine takes resolver addresses without a port), else none (the engine's).
 */
async function clusterDnsServers(cfg: EdgeCoreConfig): Promise<string[]> {
  const set = cfg.modules.edged.tailoredKubeletConfig.clusterDNS ?? [];
  if (set.length > 0) return set;
  const mesh = cfg.modules.edgeMesh;
  if (!mesh.enable) return [];
  if (mesh.dnsPort !== 53) {
    log.warn({ dnsPort: mesh.dnsPort }, 'modules.edgeMesh.dnsPort is not 53: pods keep the engine DNS settings');
    return [];
  }
  const { interfaceAddress } = await import('./edgemesh/edgemesh.ts');
  return [interfaceAddress(mesh.listenInterface)];
}
