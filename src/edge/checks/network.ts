import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { fail, ok, warn, type CheckResult } from './types.ts';
import { inContainer } from './container.ts';

export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;

/** Effective capabilities of this process (CapEff in /proc/self/status). */
export function effectiveCaps(status?: string): bigint | undefined {
  let text = status;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(text);
  return m?.[1] !== undefined ? BigInt(`0x${m[1]}`) : undefined;
}

export function hasCap(caps: bigint, bit: number): boolean {
  return (caps & (1n << BigInt(bit))) !== 0n;
}

const CAP_FIX = 'run the container with --cap-add NET_ADMIN --cap-add NET_RAW (no need for --privileged)';

export function checkCapabilities(required: boolean): CheckResult {
  const NAME = 'capabilities';
  const caps = effectiveCaps();
  if (caps === undefined) return warn(NAME, 'cannot read CapEff from /proc/self/status', CAP_FIX);
  const missing = [
    [CAP_NET_ADMIN, 'NET_ADMIN'],
    [CAP_NET_RAW, 'NET_RAW'],
  ]
    .filter(([bit]) => !hasCap(caps, bit as number))
    .map(([, n]) => n as string);
  if (missing.length === 0) return ok(NAME, 'NET_ADMIN and NET_RAW are effective');
  const detail = `missing ${missing.join(' and ')} (CapEff ${caps.toString(16)})`;
  return required ? fail(NAME, `${detail}; iptables needs them`, CAP_FIX) : warn(NAME, `${detail}; needed only when EdgeMesh is enabled`, CAP_FIX);
}

/** `iptables -t nat -L -n`: the cheapest call that needs both the binary and the capabilities. */
export function checkIptables(required: boolean): CheckResult {
  const NAME = 'iptables';
  const r = spawnSync('iptables', ['-t', 'nat', '-L', '-n'], { encoding: 'utf8', timeout: 10_000 });
  const mk = required ? fail : warn;
  if (r.error !== undefined) {
    return mk(
      NAME,
      `iptables cannot run: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : r.error.message}`,
      'install iptables (apt-get install iptables); the kubeedge-ts edge image has it',
    );
  }
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.status}`;
    return mk(NAME, `iptables -t nat -L -n failed: ${why}`, /denied|permitted|root/i.test(why) ? CAP_FIX : 'check that the kernel has nf_tables or ip_tables');
  }
  return ok(NAME, `iptables -t nat -L -n works${required ? '' : ' (needed only when EdgeMesh is enabled)'}`);
}

/** A configured interface must exist in this network namespace. */
export function checkInterface(key: string, name: string): CheckResult {
  const NAME = 'network interface';
  const have = Object.keys(os.networkInterfaces());
  if (have.includes(name)) return ok(NAME, `${key} ${name} exists`);
  const fix = inContainer()
    ? `run the container with --network host so it sees the host's interfaces, or set ${key} to one of: ${have.join(', ')} (\`ip -br link\` lists them)`
    : `set ${key} to one of: ${have.join(', ')} (\`ip -br link\` lists them)`;
  return fail(NAME, `${key} names ${name}, which does not exist here`, fix);
}

/** Free, or held by one of ours (the caller says which ports its own containers publish). */
export async function checkPort(port: number, what: string, ours: ReadonlySet<number> = new Set()): Promise<CheckResult> {
  const NAME = 'port';
  if (ours.has(port)) return ok(NAME, `${port} (${what}) is used by our own container`);
  const free = await new Promise<boolean | string>((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? false : err.message));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
  if (free === true) return ok(NAME, `${port} (${what}) is free`);
  if (free === false)
    return fail(
      NAME,
      `${port} (${what}) is in use by another process`,
      `stop what listens there (ss -ltnp 'sport = :${port}') or choose another port in the config`,
    );
  return warn(NAME, `${port} (${what}) could not be tested: ${free}`, 'check the port by hand');
}
