/**
 * Zod field builders shared by the cloudcore and edgecore schemas. Each carries a message that says what
 * would be valid; the loader appends what was found (`, got -3`) and the key path and line.
 */
import net from 'node:net';
import { z } from 'zod';
import { isDuration } from './duration.ts';

export const bool = (d: boolean) => z.boolean({ error: 'expected true or false' }).default(d);

export const str = (d: string) => z.string({ error: 'expected a string' }).default(d);

export const strList = (d: string[]) => z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of strings' }).default(() => [...d]);

/** Positive integer with a unit in the message (`seconds`, `days`, `nodes`). */
export function posInt(d: number, what: string) {
  const error = `must be a positive integer ${what}`.trimEnd();
  return z.int({ error }).positive({ error }).default(d);
}

/** Non-negative integer (counts where 0 is meaningful). */
export function nonNegInt(d: number, what: string) {
  const error = `must be an integer >= 0 ${what}`.trimEnd();
  return z.int({ error }).nonnegative({ error }).default(d);
}

export function intRange(d: number, min: number, max: number, what: string) {
  const error = `must be an integer from ${min} to ${max}${what !== '' ? ` (${what})` : ''}`;
  return z.int({ error }).min(min, { error }).max(max, { error }).default(d);
}

export function port(d: number) {
  const error = 'must be a port number 1-65535';
  return z.int({ error }).min(1, { error }).max(65535, { error }).default(d);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, d: T[number]) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` }).default(d);
}

/** Go duration string kept as written (`10s`, `1m`), checked with parseDuration. */
export function duration(d: string) {
  return z
    .string({ error: 'expected a Go duration string such as 10s, 1m or 1h30m' })
    .refine(isDuration, { error: 'must be a Go duration such as 10s, 1m or 1h30m' })
    .default(d);
}

/** `host:port` with a valid port (edgeHub servers, metaServer). */
export function hostPort(d: string) {
  const error = 'must be host:port with a port 1-65535';
  return z
    .string({ error })
    .refine(
      (s) => {
        const i = s.lastIndexOf(':');
        if (i <= 0) return false;
        const p = Number(s.slice(i + 1));
        return Number.isInteger(p) && p >= 1 && p <= 65535 && /^\d+$/.test(s.slice(i + 1));
      },
      { error },
    )
    .default(d);
}

/** A listen address `host:port`; port 0 takes a free port, as Go's net.Listen does (monitorServer, metrics). */
export function bindAddress(d: string) {
  const error = 'must be host:port with a port 0-65535';
  return z
    .string({ error })
    .refine(
      (s) => {
        const i = s.lastIndexOf(':');
        const p = s.slice(i + 1);
        return i >= 0 && /^\d+$/.test(p) && Number(p) <= 65535;
      },
      { error },
    )
    .default(d);
}

export function ipList(d: string[]) {
  const error = 'must be a list of IP addresses';
  return z
    .array(
      z.string({ error }).refine((s) => net.isIP(s) !== 0, { error: 'must be an IP address' }),
      { error },
    )
    .default(() => [...d]);
}

export function url(d: string, protocols: readonly string[]) {
  const error = `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`;
  return z
    .string({ error })
    .refine(
      (s) => {
        try {
          return protocols.includes(new URL(s).protocol);
        } catch {
          return false;
        }
      },
      { error },
    )
    .default(d);
}

const RFC1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes node names are RFC 1123 subdomains: lowercase alphanumerics, '-' and '.', at most 253. */
export function isNodeName(s: string): boolean {
  return s.length > 0 && s.length <= 253 && RFC1123_SUBDOMAIN.test(s);
}

export function nodeName(d: string) {
  const error = 'must be a valid node name (RFC 1123 subdomain: lowercase letters, digits, "-" and ".", at most 253 characters)';
  return z.string({ error }).refine(isNodeName, { error }).default(d);
}

export function cidr(d: string) {
  const error = 'must be an IPv4 CIDR such as 9.251.0.0/16';
  return z
    .string({ error })
    .refine(
      (s) => {
        const [ip, bits, extra] = s.split('/');
        return extra === undefined && ip !== undefined && net.isIPv4(ip) && /^\d+$/.test(bits ?? '') && Number(bits) <= 32;
      },
      { error },
    )
    .default(d);
}

export function stringMap(d: Record<string, string>) {
  return z.record(z.string(), z.string({ error: 'expected a string' }), { error: 'expected a map of strings' }).default(() => ({ ...d }));
}

/** Any integer (kubelet knobs such as oomScoreAdj -999 or podPidsLimit -1). */
export function int(d: number) {
  return z.int({ error: 'must be an integer' }).default(d);
}

/** A number, fractions allowed (memoryThrottlingFactor). */
export function num(d: number) {
  return z.number({ error: 'must be a number' }).default(d);
}

/** A key KubeEdge accepts with no default of its own: any value, kept as written, absent when unset. */
export const anyValue = () => z.unknown().optional();

/** A fixed set of positive integer fields (KubeEdge's buffer and load maps), typos warned as unknown keys. */
export function intFields(defaults: Readonly<Record<string, number>>) {
  const shape: Record<string, ReturnType<typeof posInt>> = {};
  for (const [k, v] of Object.entries(defaults)) shape[k] = posInt(v, '');
  return z.strictObject(shape).prefault({});
}
