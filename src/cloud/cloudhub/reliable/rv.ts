/**
 * resourceVersions compared as unsigned integers, as KubeEdge's synccontroller does. etcd revisions are
 * decimal strings; anything that is not one (a foreign server's opaque RV) sorts as 0, so it is never
 * considered newer than a known number and never blocks a known number either.
 */
export function parseRv(rv: string | undefined): bigint {
  if (rv === undefined || !/^\d{1,30}$/.test(rv)) return 0n;
  return BigInt(rv);
}

/** -1, 0 or 1 as `a` is older than, equal to or newer than `b`. */
export function compareRv(a: string | undefined, b: string | undefined): -1 | 0 | 1 {
  const x = parseRv(a);
  const y = parseRv(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
