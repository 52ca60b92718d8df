import { startApiServer, type RunningApiServer } from '../apiserver/index.ts';
import { Bus } from '../core/bus.ts';
import { logger } from '../core/log.ts';
import { ModuleRuntime } from '../core/module.ts';
import { apiServerEnabled, embeddedControlPlaneEnabled, selectedControllers, type CloudCoreConfig } from '../config/index.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { installKubeEdgeCrds } from '../kube/crds.ts';
import { isTransientApiError } from '../kube/transient.ts';
import { isNotFound, KubeRest, paths } from '../kube/rest.ts';
import { cloudRegistry } from '../metrics/cloud.ts';
import { startMetricsServerOrWarn } from '../metrics/server.ts';
import { EdgeMetrics } from './edgemetrics/edgemetrics.ts';
import { NodeUsageStore } from './edgemetrics/store.ts';
import { certDerToPem, keyDerToPem } from '../pki/x509.ts';
import { startCertServer, type CertServer } from './cloudhub/certs/cert-server.ts';
import { ensureCloudPki, KUBEEDGE_NAMESPACE } from './cloudhub/certs/cloud-pki.ts';
import { kubeSecretStore } from './cloudhub/certs/secret-store.ts';
import { startTokenManager, type TokenManager } from './cloudhub/certs/token-manager.ts';
import { assembleCloudModules } from './modules.ts';
import { authorizationPolicy } from './authorization.ts';
import { EdgeIdentityPolicy } from '../pki/edge-identity.ts';
import { CloudStream } from './cloudstream/cloudstream.ts';
import { IptablesManager, type NodeAddress } from './iptablesmanager/iptablesmanager.ts';
import { cloudStreamTls } from './cloudstream/tls.ts';
import type { KubeletProxy } from '../apiserver/pod-streams.ts';
import { join } from 'node:path';

const log = logger('cloudcore');

export type RunningCloudCore = { stop(): Promise<void> };

/**
 * Assembles cloudcore: API access (a real cluster or the embedded API server), the PKI kept in the API
 * server, the certificate service, and the modules on the bus.
 */
export async function startCloudCore(cfg: CloudCoreConfig): Promise<RunningCloudCore> {
  const stack: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    while (stack.length > 0) {
      try {
        await stack.pop()?.();
      } catch (err) {
        log.warn({ err }, 'error while stopping');
      }
    }
  };
  try {
    const embedded = apiServerEnabled(cfg);
    // The embedded server reaches edge kubelets through CloudStream, which starts later (it needs the PKI kept in
    // the API server): the proxy is bound late, and answers 503 until then.
    let cloudStream: CloudStream | undefined;
    const kubeletProxy: KubeletProxy = {
      request: (node, path, req, res) => {
        if (cloudStream !== undefined) return cloudStream.kubeletRequest(node, req, res, path);
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('cloudStream is not running\n');
      },
      upgrade: (node, path, req, socket, head) => {
        if (cloudStream !== undefined) return cloudStream.kubeletUpgrade(node, req, socket, head, path);
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      },
    };
    let kubeConfigPath = cfg.kubeAPIConfig.kubeConfig;
    let localSocket: string | undefined;
    const usage = new NodeUsageStore();
    if (embedded) {
      const a = cfg.modules.apiServer;
      const api: RunningApiServer = await startApiServer({
        address: a.address,
        port: a.port,
        dataDir: a.dataDir,
        adminKubeConfig: a.adminKubeConfig,
        log: logger('apiserver'),
        metrics: () => usage.samples(),
        localSocket: join(a.dataDir, 'apiserver.sock'),
        ...(cfg.modules.cloudStream.enable ? { kubeletProxy } : {}),
      });
      stack.push(() => api.close());
      localSocket = api.localSocketPath;
      kubeConfigPath = api.cloudcoreKubeConfigPath; // least privilege: ServiceAccount kubeedge/cloudcore, ClusterRole cloudcore
      log.info({ url: api.url, kubeconfig: api.kubeConfigPath }, `embedded API server ready; kubectl --kubeconfig ${api.kubeConfigPath} get nodes`);
    }
    const kc = loadKubeConfig({ kubeConfig: kubeConfigPath, master: cfg.kubeAPIConfig.master });
    const kube = new KubeRest(kc, localSocket === undefined ? {} : { socketPath: localSocket });
    stack.push(() => kube.close());
    await waitForApiServer(kube);
    // The API server can go away between these steps too (a restart of kube-apiserver while cloudcore starts):
    // each step is retried while it cannot reach it, instead of cloudcore exiting half-started.
    const deadline = Date.now() + 120_000;
    await whileUnreachable('installing CRDs', deadline, () => installKubeEdgeCrds(kube));

    const hub = cfg.modules.cloudHub;
    const store = kubeSecretStore(kc);
    const pki = await whileUnreachable('cloud certificates', deadline, () =>
      ensureCloudPki(store, {
        caFile: hub.tlsCAFile,
        caKeyFile: hub.tlsCAKeyFile,
        certFile: hub.tlsCertFile,
        keyFile: hub.tlsPrivateKeyFile,
        advertiseAddress: hub.advertiseAddress,
        dnsNames: hub.dnsNames.filter((d) => d !== ''),
        log: logger('cloudhub-pki'),
      }),
    );
    const tokens: TokenManager = await whileUnreachable('join token', deadline, () =>
      startTokenManager({ store, ca: pki.ca, refreshHours: hub.tokenRefreshDuration, log: logger('cloudhub-token') }),
    );
    stack.push(() => tokens.stop());

    const authz = authorizationPolicy(hub.authorization);
    // Every edge connection asks whether its Node exists (a deleted node's certificate is void). The shared node
    // informer answers "yes" from memory once it holds the node; only a node it does not hold (new, or the cache
    // not listed yet) costs an API call. 1,000 edges reconnecting after a restart were 1,000 GETs.
    let nodeCache: { get(namespace: string, name: string): unknown } | undefined;
    const exists = (name: string): Promise<boolean> => (nodeCache?.get('', name) !== undefined ? Promise.resolve(true) : nodeExists(kube, name));
    const identity = { allowSharedCerts: authz.allowSharedCerts, nodeExists: exists };
    if (!authz.allowSharedCerts) log.info('cloudHub.authorization enforced: edges need a certificate naming their node');
    if (hub.enable && hub.https.enable) {
      const certServer: CertServer = await startCertServer({
        address: hub.https.address,
        port: hub.https.port,
        ca: pki.ca,
        server: pki.server,
        edgeCertSigningDuration: hub.edgeCertSigningDuration,
        nodeExists: exists,
        identity: new EdgeIdentityPolicy({ ...identity, log: logger('cloudhub-https') }),
        log: logger('cloudhub-https'),
      });
      stack.push(() => certServer.close());
    }
    if (hub.quic.enable) log.warn('modules.cloudHub.quic is not supported (KubeEdge uses pre-standard gQUIC); serving WebSocket only');

    const bus = new Bus(logger('bus'));
    const runtime = new ModuleRuntime(bus, log);
    const ec = cfg.modules.edgeController;
    const dc = cfg.modules.deviceController;
    const { modules, notBuilt, informers } = assembleCloudModules(
      {
        cloudHub:
          hub.enable && hub.websocket.enable
            ? {
                address: hub.websocket.address,
                port: hub.websocket.port,
                caPem: certDerToPem(pki.ca.certDer),
                certPem: certDerToPem(pki.server.certDer),
                keyPem: keyDerToPem(pki.server.keyDer),
                nodeLimit: hub.nodeLimit,
                keepaliveIntervalSec: hub.keepaliveInterval,
                writeTimeoutSec: hub.writeTimeout,
                identity,
              }
            : undefined,
        edgeController: {
          enable: ec.enable,
          authorization: authz.nodeAuthorizer,
          ...(embedded ? { nodeMonitor: { gracePeriodMs: ec.nodeMonitorGracePeriod * 1000, periodMs: 5000 } } : {}),
        },
        syncController: { enable: cfg.modules.syncController.enable },
        deviceController: {
          enable: dc.enable,
          statusUpdateIntervalMs: dc.statusUpdateIntervalMs,
          updateDeviceStatusBuffer: dc.buffer['updateDeviceStatus'] ?? 1024,
          updateDeviceStatusWorkers: dc.load['updateDeviceStatusWorkers'] ?? 1,
        },
        controlPlane: {
          controllers: embeddedControlPlaneEnabled(cfg, 'controllerManager') ? selectedControllers(cfg.modules.controllerManager.controllers) : [],
          scheduler: embeddedControlPlaneEnabled(cfg, 'scheduler'),
        },
      },
      { kube, kubeConfig: kc },
    );
    nodeCache = informers.allNodes;
    if (notBuilt.length > 0) log.warn({ notBuilt }, `embedded control plane: not built yet, so not running: ${notBuilt.join(', ')}`);
    for (const m of modules) runtime.add(m);
    if (embedded) runtime.add(new EdgeMetrics(usage));
    const cs = cfg.modules.cloudStream;
    if (cs.enable) {
      const tls = await cloudStreamTls(cs, hub, pki);
      const ipt = cfg.modules.iptablesManager;
      // Added before CloudStream so it is on the bus when the first tunnel is announced, and stops after it.
      if (ipt.enable) {
        const ip = streamDnatIP(hub.advertiseAddress);
        runtime.add(
          new IptablesManager({
            enabled: true,
            mode: ipt.mode,
            stream:
              tls.stream === undefined
                ? undefined
                : () => (cloudStream?.streamAddress === undefined ? undefined : { ip, port: cloudStream.streamAddress.port }),
            lookup: (name) => nodeAddress(kube, name),
            defaultKubeletPort: cfg.commonConfig.tunnelPort,
            log: logger('iptablesmanager'),
          }),
        );
      }
      cloudStream = new CloudStream({ enabled: true, ...tls, identity, log: logger('cloudstream') });
      runtime.add(cloudStream);
    }
    await runtime.start();
    stack.push(() => runtime.stop());
    const monitor = await startMetricsServerOrWarn({
      bindAddress: cfg.commonConfig.monitorServer.bindAddress,
      registry: cloudRegistry,
      log: logger('monitor'),
    });
    if (monitor !== undefined) stack.push(() => monitor.close());
    log.info({ websocket: `${hub.websocket.address}:${hub.websocket.port}`, https: `${hub.https.address}:${hub.https.port}` }, 'cloudcore started');
    return { stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The InternalIP and kubelet port the kube-apiserver would dial for a node, from its Node object. */
async function nodeAddress(kube: KubeRest, name: string): Promise<NodeAddress> {
  const n = (await kube.get(paths.node(name))) as {
    status?: { addresses?: { type?: string; address?: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  };
  const port = n.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return {
    ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    kubeletPort: typeof port === 'number' && port > 0 ? port : undefined,
  };
}

/**
 * The stream server's address a DNAT can target: the first advertised non-loopback IPv4 address (a DNAT in
 * PREROUTING to 127.0.0.1 is dropped unless route_localnet is set), else loopback, which serves OUTPUT only.
 */
export function streamDnatIP(advertise: string[]): string {
  return advertise.find((a) => /^[0-9.]+$/.test(a) && !a.startsWith('127.')) ?? '127.0.0.1';
}

async function nodeExists(kube: KubeRest, name: string): Promise<boolean> {
  try {
    await kube.get(paths.node(name));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** A real cluster may still be coming up: retry with backoff for a while before giving up. */
async function waitForApiServer(kube: KubeRest): Promise<void> {
  let delay = 500;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await kube.get(paths.namespaces());
      await ensureNamespace(kube, KUBEEDGE_NAMESPACE);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      log.warn({ err, retryInMs: delay }, 'API server not reachable yet');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/** Runs `step` again (with backoff) as long as it fails only because the API server cannot be reached. */
async function whileUnreachable<T>(what: string, deadline: number, step: () => Promise<T>): Promise<T> {
  let delay = 250;
  for (;;) {
    try {
      return await step();
    } catch (err) {
      if (!isTransientApiError(err) || Date.now() > deadline) throw err;
      log.warn({ err, retryInMs: delay }, `${what}: API server not reachable, retrying`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

async function ensureNamespace(kube: KubeRest, name: string): Promise<void> {
  try {
    await kube.get(`${paths.namespaces()}/${name}`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await kube.create(paths.namespaces(), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch((e: unknown) => {
      if (!(e instanceof Error && /already exists/i.test(e.message))) throw e;
    });
  }
}
