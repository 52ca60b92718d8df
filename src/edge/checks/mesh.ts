import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { intToIpv4, parseCidr } from '../edgemesh/ipam.ts';
import { fail, ok, warn, type CheckResult } from './types.ts';

export type Route = { iface: string; dest: number; bits: number };

/** `/proc/net/route` (IPv4): destinations and masks are little-endian hex. */
export function parseRoutes(text: string): Route[] {
  const out: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = Buffer.from(f[1] ?? '', 'hex');
    const mask = Buffer.from(f[7] ?? '', 'hex');
    if (dest.length !== 4 || mask.length !== 4) continue;
    const m = mask.readUInt32LE(0);
    let bits = 0;
    for (let i = 0; i < 32; i++) if ((m >>> i) & 1) bits++;
    out.push({ iface: f[0] ?? '', dest: dest.readUInt32LE(0), bits });
  }
  return out;
}

/**
 * EdgeMesh's Service addresses must not be anybody's real addresses: a subNet that overlaps a route of the host
 * (other than the default route) would send traffic for that network into the mesh. `routes` is the text of
 * /proc/net/route (read when not given).
 */
export function checkSubnetRoutes(subNet: string, routes?: string): CheckResult {
  const NAME = 'edgemesh subnet';
  const net4 = parseCidr(subNet);
  if (net4 === undefined) return fail(NAME, `modules.edgeMesh.subNet ${subNet} is not an IPv4 CIDR`, 'set a CIDR such as 9.251.0.0/16');
  let text = routes;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/route', 'utf8');
    } catch {
      return warn(NAME, 'cannot read /proc/net/route to compare modules.edgeMesh.subNet with the routes', 'check `ip route` by hand');
    }
  }
  for (const r of parseRoutes(text)) {
    if (r.bits === 0) continue;
    const size = 2 ** (32 - r.bits);
    const start = r.dest - (r.dest % size);
    const overlaps = start < net4.base + net4.size && net4.base < start + size;
    if (overlaps) {
      return fail(
        NAME,
        `modules.edgeMesh.subNet ${subNet} overlaps the route ${intToIpv4(start)}/${r.bits} on ${r.iface}`,
        'choose a subNet no route of this host uses (see `ip route`); KubeEdge default is 9.251.0.0/16',
      );
    }
  }
  return ok(NAME, `modules.edgeMesh.subNet ${subNet} overlaps no route of this host`);
}

/** EdgeMesh's DNS port on the listenInterface address, UDP and TCP, must be free. */
export async function checkDnsPort(address: string, port: number, ours: ReadonlySet<number> = new Set()): Promise<CheckResult> {
  const NAME = 'edgemesh dns port';
  if (port === 0) return ok(NAME, 'modules.edgeMesh.dnsPort 0: any free port');
  if (ours.has(port)) return ok(NAME, `${port} (modules.edgeMesh.dnsPort) is used by our own container`);
  const udp = await new Promise<string | true>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.bind(port, address, () => s.close(() => resolve(true)));
  });
  const tcp =
    udp !== true
      ? udp
      : await new Promise<string | true>((resolve) => {
          const srv = net.createServer();
          srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          srv.listen({ port, host: address, exclusive: true }, () => srv.close(() => resolve(true)));
        });
  if (tcp === true) return ok(NAME, `${address}:${port} (modules.edgeMesh.dnsPort) is free`);
  if (tcp === 'EADDRINUSE') {
    return fail(
      NAME,
      `${address}:${port} (modules.edgeMesh.dnsPort) is in use by another process`,
      `stop what listens there (ss -lnup 'sport = :${port}'; often a local resolver such as dnsmasq or systemd-resolved) or pick another listenInterface`,
    );
  }
  if (tcp === 'EACCES') return fail(NAME, `binding ${address}:${port} is not permitted`, 'run edgecore as root or with CAP_NET_BIND_SERVICE');
  return warn(NAME, `${address}:${port} (modules.edgeMesh.dnsPort) could not be tested: ${tcp}`, 'check the port by hand');
}
