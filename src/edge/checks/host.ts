import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../../core/errors.ts';
import { fail, ok, warn, type CheckResult } from './types.ts';

function existingAncestor(p: string): string {
  let d = path.resolve(p);
  while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

export function checkDiskSpace(dir: string, minBytes = 100e6, warnBytes = 1e9): CheckResult {
  const NAME = 'disk space';
  const at = existingAncestor(dir);
  try {
    const s = statfsSync(at);
    const free = s.bavail * s.bsize;
    const gb = `${(free / 1e9).toFixed(1)} GB free`;
    if (free < minBytes) return fail(NAME, `${dir}: only ${gb}`, 'free disk space (docker system prune, old logs)');
    if (free < warnBytes) return warn(NAME, `${dir}: ${gb}`, 'images and pod volumes need room; free some disk space');
    return ok(NAME, `${dir}: ${gb}`);
  } catch (err) {
    return warn(NAME, `cannot stat ${at}: ${describeError(err)}`, 'check the disk by hand');
  }
}

/** A clock behind the cloud CA's notBefore makes every TLS handshake fail with a misleading error. */
export function checkClockSkew(caFile: string, now = new Date()): CheckResult {
  const NAME = 'clock';
  if (!existsSync(caFile)) return ok(NAME, `no cloud CA at ${caFile} yet; skew is checked after joining`);
  try {
    const cert = new X509Certificate(readFileSync(caFile));
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    if (now < notBefore) {
      return fail(
        NAME,
        `this clock (${now.toISOString()}) is before the cloud CA's notBefore (${notBefore.toISOString()})`,
        'synchronise the clock (timedatectl set-ntp true, or chrony)',
      );
    }
    if (now > notAfter) return fail(NAME, `the cloud CA ${caFile} expired at ${notAfter.toISOString()}`, 'synchronise the clock, or rejoin with a fresh token');
    return ok(NAME, `clock is within the cloud CA's validity (${notBefore.toISOString()} .. ${notAfter.toISOString()})`);
  } catch (err) {
    return warn(NAME, `cannot read ${caFile}: ${describeError(err)}`, 'remove the file so edgecore fetches the CA again');
  }
}
