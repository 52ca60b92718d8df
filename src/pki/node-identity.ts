import type { X509Certificate } from 'node:crypto';

/**
 * Edge node identities in client certificates, as Kubernetes' kubelet certificates carry them:
 * CN=system:node:<name>, O=system:nodes. KubeEdge <= 1.16 gave every edge one shared CN=kubeedge.io instead,
 * which names no node at all.
 */
export const NODE_CN_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';
export const SHARED_EDGE_CN = 'kubeedge.io';

export type NodeIdentity = { kind: 'node'; name: string } | { kind: 'shared' } | { kind: 'other'; cn: string | undefined };

function subjectValues(subject: string, key: string): string[] {
  // node:crypto prints one "KEY=value" per line; our subjects never hold newlines inside a value.
  return subject
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

/** What a certificate subject says about which node holds it. Never throws: subjects come from the network. */
export function nodeIdentity(cert: X509Certificate | { subject: string }): NodeIdentity {
  const subject = typeof cert.subject === 'string' ? cert.subject : '';
  const cn = subjectValues(subject, 'CN')[0];
  const orgs = subjectValues(subject, 'O');
  if (cn === SHARED_EDGE_CN) return { kind: 'shared' };
  if (cn?.startsWith(NODE_CN_PREFIX) === true && orgs.includes(NODES_GROUP)) {
    const name = cn.slice(NODE_CN_PREFIX.length);
    if (name !== '') return { kind: 'node', name };
  }
  return { kind: 'other', cn };
}

/** The node a certificate names (CN=system:node:<name> with O=system:nodes), or undefined. */
export function nodeNameFromCert(cert: X509Certificate | { subject: string }): string | undefined {
  const id = nodeIdentity(cert);
  return id.kind === 'node' ? id.name : undefined;
}

/** True for KubeEdge's shared edge certificate (CN=kubeedge.io), which any edge may hold. */
export function isSharedEdgeCert(cert: X509Certificate | { subject: string }): boolean {
  return nodeIdentity(cert).kind === 'shared';
}

export function nodeCommonName(nodeName: string): string {
  return `${NODE_CN_PREFIX}${nodeName}`;
}

/** The subject our edges put in their CSRs and the certificate service writes into every node certificate. */
export function nodeSubject(nodeName: string): string {
  return `C=CN, ST=Zhejiang, L=Hangzhou, O=${NODES_GROUP}, CN=${nodeCommonName(nodeName)}`;
}
