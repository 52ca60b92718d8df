/**
 * An IntOrString such as `maxUnavailable: 25%` scaled against a total, as Kubernetes scales it: a percent is
 * rounded up or down as the caller asks; an absent value takes the default.
 */
export function scaledValue(v: unknown, total: number, roundUp: boolean, dflt: number | string): number {
  const x = v === undefined || v === null ? dflt : v;
  if (typeof x === 'number') return Math.max(0, Math.floor(x));
  const m = /^(\d+)%$/.exec(String(x));
  if (m !== null) {
    const exact = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  const n = Number(x);
  return Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0;
}
