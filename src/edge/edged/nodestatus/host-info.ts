import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';

/** Memory kept back by the kubelet's default `evictionHard: memory.available<100Mi`, as KubeEdge reports it. */
const EVICTION_MEMORY_KI = 100 * 1024;
/** Default `evictionHard: nodefs.available<10%`. */
const EVICTION_NODEFS_FRACTION = 0.1;
export const KUBELET_PORT = 10350;
/** What KubeEdge 1.15's edged reports (an unset build variable in its kube-proxy stub). */
export const KUBE_PROXY_VERSION = 'v0.0.0-master+$Format:%H$';

export type NodeAddress = { type: 'InternalIP' | 'Hostname'; address: string };
export type NodeSystemInfo = {
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  containerRuntimeVersion: string;
  kubeletVersion: string;
  kubeProxyVersion: string;
  operatingSystem: string;
  architecture: string;
};
export type HostInfo = {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  addresses: NodeAddress[];
  daemonEndpoints: { kubeletEndpoint: { Port: number } };
  nodeInfo: NodeSystemInfo;
};

export type HostInfoOptions = {
  nodeName: string;
  /** Configured `edged.nodeIP`; '' or undefined = detect. */
  nodeIP?: string;
  /** Where edged's kubelet API listens (`tailoredKubeletConfig.readOnlyPort`); advertised in daemonEndpoints. */
  kubeletPort?: number;
  maxPods: number;
  /** e.g. `docker://20.10.24` or `containerd://1.6.20`. */
  containerRuntimeVersion: string;
  /** e.g. `v1.32.10-kubeedge-ts-0.1.0`. */
  kubeletVersion: string;
  /** Kubelet root directory; its filesystem gives ephemeral-storage. */
  rootDirectory?: string;
};

/** Go's GOARCH for Node's process.arch. */
export function goArch(arch: string = process.arch): string {
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'ppc64':
      return os.endianness() === 'LE' ? 'ppc64le' : 'ppc64';
    default:
      return arch; // arm64, arm, s390x, riscv64, loong64, mips...
  }
}

export function goOS(platform: string = process.platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** PRETTY_NAME from os-release, as the kubelet reports `osImage`. */
export function osImage(osRelease = readTrimmed('/etc/os-release')): string {
  const line = osRelease.split('\n').find((l) => l.startsWith('PRETTY_NAME='));
  if (line === undefined) return os.type();
  return line
    .slice('PRETTY_NAME='.length)
    .replace(/^"(.*)"$/, '$1')
    .replace(/^'(.*)'$/, '$1');
}

/** `nodeIP` if configured, else the first non-internal IPv4 address, else loopback. */
export function detectNodeIP(configured?: string): string {
  if (configured !== undefined && configured !== '') return configured;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}

/** Bytes of the filesystem holding `path`, or undefined when it cannot be read. */
function filesystemBytes(path: string | undefined): number | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    const s = statfsSync(path);
    return s.blocks * s.bsize;
  } catch {
    return undefined;
  }
}

/** Everything about the host that goes into `Node.status`. Cheap enough to call on every status tick. */
export function collectHostInfo(o: HostInfoOptions): HostInfo {
  const cpu = String(Math.max(1, os.availableParallelism()));
  const memKi = Math.floor(os.totalmem() / 1024);
  const pods = String(o.maxPods);
  const capacity: Record<string, string> = {
    cpu,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${memKi}Ki`,
    pods,
  };
  const allocatable: Record<string, string> = {
    ...capacity,
    memory: `${Math.max(0, memKi - EVICTION_MEMORY_KI)}Ki`,
  };
  const fsBytes = filesystemBytes(o.rootDirectory);
  if (fsBytes !== undefined) {
    capacity['ephemeral-storage'] = `${Math.floor(fsBytes / 1024)}Ki`;
    allocatable['ephemeral-storage'] = String(Math.floor(fsBytes * (1 - EVICTION_NODEFS_FRACTION)));
  }
  const machineID = readTrimmed('/etc/machine-id');
  return {
    capacity: sortKeys(capacity),
    allocatable: sortKeys(allocatable),
    addresses: [
      { type: 'InternalIP', address: detectNodeIP(o.nodeIP) },
      { type: 'Hostname', address: o.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort ?? KUBELET_PORT } },
    nodeInfo: {
      machineID,
      // product_uuid is root-only on most hosts; the kubelet leaves it empty when unreadable.
      systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid'),
      bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
      kernelVersion: os.release(),
      osImage: osImage(),
      containerRuntimeVersion: o.containerRuntimeVersion,
      kubeletVersion: o.kubeletVersion,
      kubeProxyVersion: KUBE_PROXY_VERSION,
      operatingSystem: goOS(),
      architecture: goArch(),
    },
  };
}

/** Go marshals maps with sorted keys; doing the same keeps our frames byte-comparable. */
export function sortKeys<T>(rec: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
