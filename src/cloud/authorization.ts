import type { AuthzMode } from './edgecontroller/authz/node-authorizer.ts';

/** KubeEdge v1.18's `modules.cloudHub.authorization`, as the config schema parses it (absent = not set). */
export type CloudHubAuthorization = { enable: boolean; debug: boolean; modes: Array<{ node?: { enable: boolean } | undefined }> } | undefined;

export type AuthorizationPolicy = {
  /** CloudHub and the certificate service accept certificates that name no node (KubeEdge's CN=kubeedge.io). */
  allowSharedCerts: boolean;
  nodeAuthorizer: AuthzMode;
};

/**
 * What the keys mean, as in KubeEdge: nothing is refused unless `enable` is true and `debug` false; `debug`
 * checks and logs but lets everything through; `modes[].node.enable` switches the node authorizer. Beyond
 * KubeEdge, with enforcement off the node authorizer still audits (logs and counts what it would refuse). A
 * certificate naming another node, or a deleted one, is refused in every mode: that is authentication.
 */
export function authorizationPolicy(a: CloudHubAuthorization): AuthorizationPolicy {
  const enforce = a?.enable === true && !a.debug;
  const nodeMode = a === undefined || a.modes.some((m) => m.node?.enable === true);
  return {
    allowSharedCerts: !enforce,
    nodeAuthorizer: !nodeMode ? 'off' : enforce ? 'enforce' : 'audit',
  };
}
