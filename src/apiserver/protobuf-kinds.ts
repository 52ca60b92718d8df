/**
 * Protobuf schemas (field numbers from k8s.io/api's generated.proto) of the further kinds kubectl 1.32
 * sends as protobuf: `create service <type>` (Service), `create token` (TokenRequest), `create role |
 * clusterrole | rolebinding | clusterrolebinding`, `auth can-i` (SelfSubjectAccessReview), `auth whoami`
 * (SelfSubjectReview), and the reviews a client may post (SubjectAccessReview, TokenReview). client-go gives up on a 415, so these must decode.
 * Checked with kubectl -v=8: `kubectl expose` and `kubectl run` send JSON.
 */
/**
 * `int` and `bool0` drop a 0 / false (gogo writes every plain field, JSON omits the empty ones); `optint` and
 * `bool` keep it (a pointer field is written only when set). `quantity`, `mapsq` (a ResourceList) and `time`
 * are the apimachinery messages JSON shows as strings.
 */
export type ProtoKind =
  | 'string'
  | 'bytes'
  | 'int'
  | 'optint'
  | 'ints'
  | 'bool'
  | 'bool0'
  | 'strings'
  | 'mapss'
  | 'mapsb'
  | 'mapsq'
  | 'intstr'
  | 'quantity'
  | 'time'
  | { msg: string }
  | { msgs: string };
export type ProtoSchema = Record<number, [string, ProtoKind]>;

const meta = { 1: ['metadata', { msg: 'ObjectMeta' }] } as const satisfies ProtoSchema;

export const EXTRA_SCHEMAS: Record<string, ProtoSchema> = {
  IntOrString: { 1: ['type', 'int'], 2: ['intVal', 'int'], 3: ['strVal', 'string'] },
  OwnerReference: {
    1: ['kind', 'string'],
    3: ['name', 'string'],
    4: ['uid', 'string'],
    5: ['apiVersion', 'string'],
    6: ['controller', 'bool'],
    7: ['blockOwnerDeletion', 'bool'],
  },
  DeleteOptions: {
    1: ['gracePeriodSeconds', 'optint'],
    2: ['preconditions', { msg: 'Preconditions' }],
    3: ['orphanDependents', 'bool'],
    4: ['propagationPolicy', 'string'],
    5: ['dryRun', 'strings'],
  },
  Preconditions: { 1: ['uid', 'string'], 2: ['resourceVersion', 'string'] },
  Time: { 1: ['seconds', 'int'], 2: ['nanos', 'int'] },
  Quantity: { 1: ['string', 'string'] },
  LabelSelector: { 1: ['matchLabels', 'mapss'], 2: ['matchExpressions', { msgs: 'LabelSelectorRequirement' }] },
  LabelSelectorRequirement: { 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['values', 'strings'] },
  Service: { ...meta, 2: ['spec', { msg: 'ServiceSpec' }] },
  ServiceSpec: {
    1: ['ports', { msgs: 'ServicePort' }],
    2: ['selector', 'mapss'],
    3: ['clusterIP', 'string'],
    4: ['type', 'string'],
    5: ['externalIPs', 'strings'],
    7: ['sessionAffinity', 'string'],
    8: ['loadBalancerIP', 'string'],
    9: ['loadBalancerSourceRanges', 'strings'],
    10: ['externalName', 'string'],
    11: ['externalTrafficPolicy', 'string'],
    12: ['healthCheckNodePort', 'int'],
    13: ['publishNotReadyAddresses', 'bool'],
    17: ['ipFamilyPolicy', 'string'],
    18: ['clusterIPs', 'strings'],
    19: ['ipFamilies', 'strings'],
    20: ['allocateLoadBalancerNodePorts', 'bool'],
    21: ['loadBalancerClass', 'string'],
    22: ['internalTrafficPolicy', 'string'],
    23: ['trafficDistribution', 'string'],
  },
  ServicePort: {
    1: ['name', 'string'],
    2: ['protocol', 'string'],
    3: ['port', 'int'],
    4: ['targetPort', 'intstr'],
    5: ['nodePort', 'int'],
    6: ['appProtocol', 'string'],
  },
  TokenRequest: { ...meta, 2: ['spec', { msg: 'TokenRequestSpec' }] },
  TokenRequestSpec: { 1: ['audiences', 'strings'], 3: ['boundObjectRef', { msg: 'BoundObjectReference' }], 4: ['expirationSeconds', 'int'] },
  BoundObjectReference: { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] },
  TokenReview: { ...meta, 2: ['spec', { msg: 'TokenReviewSpec' }] },
  SelfSubjectReview: { ...meta },
  TokenReviewSpec: { 1: ['token', 'string'], 2: ['audiences', 'strings'] },
  SelfSubjectAccessReview: { ...meta, 2: ['spec', { msg: 'SelfSubjectAccessReviewSpec' }] },
  SelfSubjectAccessReviewSpec: { 1: ['resourceAttributes', { msg: 'ResourceAttributes' }], 2: ['nonResourceAttributes', { msg: 'NonResourceAttributes' }] },
  SelfSubjectRulesReview: { ...meta, 2: ['spec', { msg: 'SelfSubjectRulesReviewSpec' }] },
  SelfSubjectRulesReviewSpec: { 1: ['namespace', 'string'] },
  SubjectAccessReview: { ...meta, 2: ['spec', { msg: 'SubjectAccessReviewSpec' }] },
  SubjectAccessReviewSpec: {
    1: ['resourceAttributes', { msg: 'ResourceAttributes' }],
    2: ['nonResourceAttributes', { msg: 'NonResourceAttributes' }],
    3: ['user', 'string'],
    4: ['groups', 'strings'],
    6: ['uid', 'string'],
  },
  ResourceAttributes: {
    1: ['namespace', 'string'],
    2: ['verb', 'string'],
    3: ['group', 'string'],
    4: ['version', 'string'],
    5: ['resource', 'string'],
    6: ['subresource', 'string'],
    7: ['name', 'string'],
  },
  NonResourceAttributes: { 1: ['path', 'string'], 2: ['verb', 'string'] },
  Role: { ...meta, 2: ['rules', { msgs: 'PolicyRule' }] },
  ClusterRole: { ...meta, 2: ['rules', { msgs: 'PolicyRule' }], 3: ['aggregationRule', { msg: 'AggregationRule' }] },
  AggregationRule: { 1: ['clusterRoleSelectors', { msgs: 'LabelSelector' }] },
  PolicyRule: {
    1: ['verbs', 'strings'],
    2: ['apiGroups', 'strings'],
    3: ['resources', 'strings'],
    4: ['resourceNames', 'strings'],
    5: ['nonResourceURLs', 'strings'],
  },
  RoleBinding: { ...meta, 2: ['subjects', { msgs: 'Subject' }], 3: ['roleRef', { msg: 'RoleRef' }] },
  ClusterRoleBinding: { ...meta, 2: ['subjects', { msgs: 'Subject' }], 3: ['roleRef', { msg: 'RoleRef' }] },
  Subject: { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] },
  RoleRef: { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] },
};

/** apiVersion/kind pairs accepted as protobuf besides the ones protobuf.ts started with. */
export const EXTRA_KINDS: Record<string, string> = {
  // The workload kinds (their messages: protobuf-workloads.generated.ts): `kubectl create deployment | job |
  // cronjob | poddisruptionbudget`, `create job --from=cronjob/NAME`, and the Eviction `kubectl drain` posts.
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  PodDisruptionBudget: 'policy/v1',
  Eviction: 'policy/v1',
  Binding: 'v1',
  Service: 'v1',
  TokenRequest: 'authentication.k8s.io/v1',
  TokenReview: 'authentication.k8s.io/v1',
  SelfSubjectReview: 'authentication.k8s.io/v1',
  SelfSubjectAccessReview: 'authorization.k8s.io/v1',
  SubjectAccessReview: 'authorization.k8s.io/v1',
  SelfSubjectRulesReview: 'authorization.k8s.io/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
};
