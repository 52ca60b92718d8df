// Writes cloudcore's real-cluster RBAC (src/keadm/cluster-rbac.ts) where YAML is needed: the manifest users
// apply by hand and the rules the Helm chart includes. src/keadm/cluster-rbac.test.ts fails when they drift.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { CLOUDCORE_CLUSTER_RULES, CLOUDCORE_NAMESPACE_RULES, cloudcoreClusterRbac } from '../src/keadm/cluster-rbac.ts';

const root = path.join(import.meta.dirname, '..');
const files = path.join(root, 'manifests/charts/cloudcore/files');
writeFileSync(path.join(files, 'cluster-rules.yaml'), stringify(CLOUDCORE_CLUSTER_RULES));
writeFileSync(path.join(files, 'namespace-rules.yaml'), stringify(CLOUDCORE_NAMESPACE_RULES));
writeFileSync(
  path.join(root, 'manifests/rbac/cloudcore-cluster.yaml'),
  `# cloudcore's least-privilege identity on a real cluster (keadm init --kube-config applies it; the Helm chart has the
# same rules), derived from what cloudcore does there. Source: src/keadm/cluster-rbac.ts (scripts/gen-cloudcore-rbac.ts).
${cloudcoreClusterRbac()
  .map((o) => `---\n${stringify(o)}`)
  .join('')}`,
);
