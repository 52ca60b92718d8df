import os from 'node:os';

/** Facts about the host that KubeEdge folds into config defaults at runtime. */
export type HostFacts = {
  /** First non-internal IPv4 address, else 127.0.0.1 (cloudHub.advertiseAddress, edgeHub servers). */
  ip: string;
  /** os.hostname() lowercased (edged.hostnameOverride). */
  hostname: string;
};

/** Reads the host's IP and name the way KubeEdge's defaults do (ChooseHostInterface / os.Hostname). */
export function detectHost(): HostFacts {
  let ip = '127.0.0.1';
  outer: for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) {
        ip = a.address;
        break outer;
      }
    }
  }
  return { ip, hostname: os.hostname().toLowerCase() };
}
