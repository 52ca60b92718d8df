import { parseResource, type Message } from '../core/message.ts';

/** A label value from what a peer sent: short, plain, or `other`, so no peer can grow the series without bound. */
export function boundedLabel(s: string | undefined): string {
  return s !== undefined && /^[A-Za-z][A-Za-z0-9_-]{0,39}$/.test(s) ? s : 'other';
}

/** A message's `type` label: its resource type (`pod`, `nodestatus`, ...) or, for keepalives, `node`. */
export function messageLabels(msg: Message): { type: string; operation: string } {
  const resource = msg.route.resource ?? '';
  const parsed = resource.includes('/') ? parseResource(resource.replace(/^node\/[^/]+\//, '')).type : resource;
  return { type: boundedLabel(parsed), operation: boundedLabel(msg.route.operation) };
}

/** Seconds since `startNs` (process.hrtime.bigint()), for histograms. */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}
