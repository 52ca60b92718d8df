/**
 * What `--defaultconfig` and `--minconfig` print: three `#` comment lines, then YAML in KubeEdge's camelCase
 * keys with apiVersion and kind first. Both load back through the loader without problems.
 */
import { stringify } from 'yaml';
import { CLOUDCORE_API_VERSION, CLOUDCORE_KIND, cloudCoreSchema, type CloudCoreConfig } from './cloudcore.ts';
import { EDGECORE_API_VERSION, EDGECORE_KIND, edgeCoreSchema, type EdgeCoreConfig } from './edgecore.ts';
import { KUBEEDGE_DEFAULTS_VERSION } from './effects.ts';
import { detectHost, type HostFacts } from './host.ts';
import type { ConfigKind } from './load.ts';

function header(kind: ConfigKind, what: 'default' | 'min'): string {
  const lines =
    what === 'min'
      ? [
          '# With --minconfig, you can easily use this configuration as a reference.',
          `# It suits users new to KubeEdge: every key left out takes its default (see \`${kind} --defaultconfig\`).`,
          `# Save it with \`${kind} --minconfig > /etc/kubeedge/config/${kind}.yaml\`, then edit what differs.`,
        ]
      : [
          '# With --defaultconfig, you get the full default configuration, for reference.',
          `# It suits users who know KubeEdge: ${kind} uses these values (KubeEdge ${KUBEEDGE_DEFAULTS_VERSION}'s defaults) for every key a file leaves out.`,
          '# Start from `--minconfig` instead unless you need to change many of them.',
        ];
  return lines.join('\n');
}

/** The full default config object (the same object the loader yields for a file with no keys). */
export function defaultCloudCoreConfig(host: HostFacts = detectHost()): CloudCoreConfig {
  return cloudCoreSchema(host).parse({});
}

export function defaultEdgeCoreConfig(host: HostFacts = detectHost()): EdgeCoreConfig {
  return edgeCoreSchema(host).parse({});
}

/**
 * Keys `--defaultconfig` leaves out, as KubeEdge v1.15.4 does: the endpoints resolved into tailoredKubeletConfig
 * (v1.16+ keys; printing them would override edged.remoteRuntimeEndpoint) and the v1.15.4 keys it omits when
 * empty.
 */
const EDGE_PRINT_OMIT: readonly (readonly string[])[] = [
  ['modules', 'edged', 'tailoredKubeletConfig', 'containerRuntimeEndpoint'],
  ['modules', 'edged', 'tailoredKubeletConfig', 'imageServiceEndpoint'],
];
const EDGE_PRINT_OMIT_EMPTY: readonly string[] = ['customInterfaceName', 'nodeIP', 'nodeLabels', 'runtimeCgroups'];

function printableEdgeCoreConfig(host: HostFacts): Record<string, unknown> {
  const out = structuredClone(defaultEdgeCoreConfig(host)) as unknown as Record<string, unknown>;
  for (const path of EDGE_PRINT_OMIT) {
    const parent = path.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, out);
    delete parent[path[path.length - 1] ?? ''];
  }
  const edged = (out['modules'] as Record<string, Record<string, unknown>>)['edged'] ?? {};
  for (const k of EDGE_PRINT_OMIT_EMPTY) {
    const v = edged[k];
    if (v === '' || (typeof v === 'object' && v !== null && Object.keys(v).length === 0)) delete edged[k];
  }
  return out;
}

/** KubeEdge's NewMinCloudCoreConfig, keeping only keys kubeedge-ts honours, and with cloudHub enabled. */
export function minCloudCoreConfig(host: HostFacts = detectHost()): Record<string, unknown> {
  const d = defaultCloudCoreConfig(host);
  const hub = d.modules.cloudHub;
  return {
    apiVersion: CLOUDCORE_API_VERSION,
    kind: CLOUDCORE_KIND,
    modules: {
      cloudHub: {
        // KubeEdge v1.15.4 prints `enable: false` here (an unset Go bool), which would serve no edge
        enable: true,
        nodeLimit: 1000,
        tlsCAFile: hub.tlsCAFile,
        tlsCAKeyFile: hub.tlsCAKeyFile,
        tlsCertFile: hub.tlsCertFile,
        tlsPrivateKeyFile: hub.tlsPrivateKeyFile,
        advertiseAddress: hub.advertiseAddress,
        websocket: hub.websocket,
        https: hub.https,
      },
      router: d.modules.router,
      iptablesManager: d.modules.iptablesManager,
    },
  };
}

/** KubeEdge's NewMinEdgeCoreConfig, keeping only keys kubeedge-ts honours, and with edgeHub enabled. */
export function minEdgeCoreConfig(host: HostFacts = detectHost()): Record<string, unknown> {
  const d = defaultEdgeCoreConfig(host);
  const { edged, edgeHub, eventBus } = d.modules;
  return {
    apiVersion: EDGECORE_API_VERSION,
    kind: EDGECORE_KIND,
    database: { dataSource: d.database.dataSource },
    modules: {
      edged: {
        enable: edged.enable,
        hostnameOverride: edged.hostnameOverride,
        podSandboxImage: edged.podSandboxImage,
        registerNodeNamespace: edged.registerNodeNamespace,
        remoteImageEndpoint: edged.remoteImageEndpoint,
        remoteRuntimeEndpoint: edged.remoteRuntimeEndpoint,
        rootDirectory: edged.rootDirectory,
      },
      edgeHub: {
        // KubeEdge v1.15.4 prints `enable: false` here (an unset Go bool), which would leave the edge offline
        enable: true,
        heartbeat: edgeHub.heartbeat,
        tlsCaFile: edgeHub.tlsCaFile,
        tlsCertFile: edgeHub.tlsCertFile,
        tlsPrivateKeyFile: edgeHub.tlsPrivateKeyFile,
        websocket: {
          enable: edgeHub.websocket.enable,
          handshakeTimeout: edgeHub.websocket.handshakeTimeout,
          server: edgeHub.websocket.server,
        },
        httpServer: edgeHub.httpServer,
        token: edgeHub.token,
      },
      eventBus: {
        enable: eventBus.enable,
        mqttMode: eventBus.mqttMode,
        mqttQOS: eventBus.mqttQOS,
        mqttRetain: eventBus.mqttRetain,
        mqttServerExternal: eventBus.mqttServerExternal,
        mqttServerInternal: eventBus.mqttServerInternal,
        mqttSessionQueueSize: eventBus.mqttSessionQueueSize,
      },
    },
  };
}

function render(kind: ConfigKind, what: 'default' | 'min', obj: unknown): string {
  return `${header(kind, what)}\n${stringify(obj, { lineWidth: 0 })}`;
}

/** What `<kind> --defaultconfig` prints. */
export function defaultConfigYaml(kind: ConfigKind, host: HostFacts = detectHost()): string {
  return render(kind, 'default', kind === 'cloudcore' ? defaultCloudCoreConfig(host) : printableEdgeCoreConfig(host));
}

/** What `<kind> --minconfig` prints. */
export function minConfigYaml(kind: ConfigKind, host: HostFacts = detectHost()): string {
  return render(kind, 'min', kind === 'cloudcore' ? minCloudCoreConfig(host) : minEdgeCoreConfig(host));
}
