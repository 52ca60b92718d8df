/**
 * What the proxy reads from EdgeMesh's store (contract C4, `../store.ts`): the subset it needs, so the proxy can be
 * tested against any store of that shape. `MeshStore` satisfies `ProxyStore` structurally.
 */
import type { EventEmitter } from 'node:events';

export type ProxyPort = { name?: string; port: number; protocol: 'TCP' | 'UDP' | 'SCTP'; targetPort?: number | string };
export type ProxyService = {
  namespace: string;
  name: string;
  clusterIP?: string;
  meshIP?: string;
  headless: boolean;
  ports: ProxyPort[];
  sessionAffinity: 'None' | 'ClientIP';
  affinityTimeoutSeconds?: number;
};
export type ProxyEndpoint = { ip: string; nodeName?: string; ready: boolean; ports: { name?: string; port: number; protocol: string }[] };

export type ProxyStore = EventEmitter & {
  services(): ProxyService[];
  service(ns: string, name: string): ProxyService | undefined;
  endpoints(ns: string, name: string): ProxyEndpoint[];
};

export type LbStrategy = 'RoundRobin' | 'Random';

/** One place a connection can go: a pod's IP and port, on this node or on `nodeName`. */
export type Backend = { key: string; ip: string; port: number; nodeName?: string };
