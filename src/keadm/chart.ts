/**
 * The cloudcore Helm chart (manifests/charts/cloudcore) rendered without helm: the objects its templates make
 * for the values keadm sets. `keadm init --in-cluster --dry-run` prints these; a test renders the chart with
 * the real helm and requires the same objects.
 */
import { stringify } from 'yaml';
import type { KubeObject } from '../kube/rest.ts';
import { VERSION } from '../version.ts';
import { CLOUDCORE_CLUSTER_RULES, CLOUDCORE_NAMESPACE_RULES, CLOUDCORE_NAME, CLOUDCORE_NAMESPACE } from './cluster-rbac.ts';

export type ChartValues = {
  replicaCount: number;
  hostNetwork: boolean;
  image: { repository: string; tag: string; pullPolicy: string };
  nodeSelector: Record<string, string>;
  tolerations: unknown[];
  resources: Record<string, unknown>;
  serviceType: string;
  advertiseAddress: string[];
  nodeLimit: number;
  websocketPort: number;
  httpsPort: number;
};

/** values.yaml's defaults. */
export function defaultChartValues(): ChartValues {
  return {
    replicaCount: 1,
    hostNetwork: true,
    image: { repository: 'kubeedge-ts/cloudcore', tag: VERSION, pullPolicy: 'IfNotPresent' },
    nodeSelector: {},
    tolerations: [],
    resources: { limits: { cpu: '200m', memory: '1Gi' }, requests: { cpu: '100m', memory: '512Mi' } },
    serviceType: 'ClusterIP',
    advertiseAddress: [],
    nodeLimit: 1000,
    websocketPort: 10000,
    httpsPort: 10002,
  };
}

/** The same values as `helm --set` arguments, so helm renders what renderChart does. */
export function helmSetArgs(v: ChartValues): string[] {
  const d = defaultChartValues();
  const out: string[] = [];
  const set = (k: string, val: string) => out.push('--set', `${k}=${val}`);
  if (v.image.repository !== d.image.repository) set('cloudCore.image.repository', v.image.repository);
  if (v.image.tag !== d.image.tag) set('cloudCore.image.tag', v.image.tag);
  for (const [i, a] of v.advertiseAddress.entries()) set(`cloudCore.modules.cloudHub.advertiseAddress[${i}]`, a);
  if (v.nodeLimit !== d.nodeLimit) set('cloudCore.modules.cloudHub.nodeLimit', String(v.nodeLimit));
  if (v.websocketPort !== d.websocketPort) set('cloudCore.modules.cloudHub.websocket.port', String(v.websocketPort));
  if (v.httpsPort !== d.httpsPort) set('cloudCore.modules.cloudHub.https.port', String(v.httpsPort));
  if (v.hostNetwork !== d.hostNetwork) set('cloudCore.hostNetwork', String(v.hostNetwork));
  return out;
}

const LABELS = { 'k8s-app': 'kubeedge', kubeedge: 'cloudcore' };
const md = (namespaced: boolean) => ({ name: CLOUDCORE_NAME, ...(namespaced ? { namespace: CLOUDCORE_NAMESPACE } : {}), labels: { ...LABELS } });
const subjects = () => [{ kind: 'ServiceAccount', name: CLOUDCORE_NAME, namespace: CLOUDCORE_NAMESPACE }];

export function cloudcoreInClusterConfig(v: ChartValues): Record<string, unknown> {
  return {
    apiVersion: 'cloudcore.config.kubeedge.io/v1alpha1',
    kind: 'CloudCore',
    modules: {
      // In a pod cloudcore talks to its cluster with the pod's service account; no API server of its own.
      apiServer: { enable: false },
      cloudHub: {
        ...(v.advertiseAddress.length > 0 ? { advertiseAddress: [...v.advertiseAddress] } : {}),
        nodeLimit: v.nodeLimit,
        websocket: { enable: true, address: '0.0.0.0', port: v.websocketPort },
        https: { enable: true, address: '0.0.0.0', port: v.httpsPort },
      },
    },
  };
}

/** The chart's templates, in helm's order of kinds (ServiceAccount, ConfigMap, RBAC, Service, Deployment). */
export function renderChart(v: ChartValues): KubeObject[] {
  const rbac = 'rbac.authorization.k8s.io/v1';
  const ports = [
    { name: 'cloudhub', port: v.websocketPort },
    { name: 'cloudhub-https', port: v.httpsPort },
  ];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: md(true) },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: md(true), data: { 'cloudcore.yaml': stringify(cloudcoreInClusterConfig(v)) } },
    { apiVersion: rbac, kind: 'ClusterRole', metadata: md(false), rules: structuredClone(CLOUDCORE_CLUSTER_RULES) },
    {
      apiVersion: rbac,
      kind: 'ClusterRoleBinding',
      metadata: md(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLOUDCORE_NAME },
      subjects: subjects(),
    },
    { apiVersion: rbac, kind: 'Role', metadata: md(true), rules: structuredClone(CLOUDCORE_NAMESPACE_RULES) },
    {
      apiVersion: rbac,
      kind: 'RoleBinding',
      metadata: md(true),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CLOUDCORE_NAME },
      subjects: subjects(),
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: md(true),
      spec: {
        type: v.serviceType,
        selector: { ...LABELS },
        ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: md(true),
      spec: {
        replicas: v.replicaCount,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { ...LABELS } },
        template: {
          metadata: { labels: { ...LABELS } },
          spec: {
            serviceAccountName: CLOUDCORE_NAME,
            hostNetwork: v.hostNetwork,
            dnsPolicy: v.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
            ...(Object.keys(v.nodeSelector).length > 0 ? { nodeSelector: { ...v.nodeSelector } } : {}),
            ...(v.tolerations.length > 0 ? { tolerations: structuredClone(v.tolerations) } : {}),
            containers: [
              {
                name: 'cloudcore',
                image: `${v.image.repository}:${v.image.tag}`,
                imagePullPolicy: v.image.pullPolicy,
                args: ['--config', '/etc/kubeedge/config/cloudcore.yaml'],
                ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
                ...(Object.keys(v.resources).length > 0 ? { resources: structuredClone(v.resources) } : {}),
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/kubeedge/config', readOnly: true },
                  { name: 'ca', mountPath: '/etc/kubeedge/ca' },
                  { name: 'certs', mountPath: '/etc/kubeedge/certs' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: CLOUDCORE_NAME } },
              { name: 'ca', emptyDir: {} },
              { name: 'certs', emptyDir: {} },
            ],
          },
        },
      },
    },
  ];
}

/** As `helm template` prints them: YAML documents separated by `---`. */
export function manifestsText(objects: KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join('');
}
