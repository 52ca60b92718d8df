import type { TwinReport, TwinValue } from './wire.ts';

/** `status` of a v1beta1 Device as kubeedge-ts writes it. */
export type DeviceStatus = { twins?: StatusTwin[]; state?: string; lastOnlineTime?: string };
export type StatusTwin = { propertyName: string; reported?: TwinValue; observedDesired?: TwinValue };

/** What the edge reported for one device since its last status write; later reports overwrite earlier ones. */
export type StatusChange = { twins: Record<string, TwinReport>; state?: string; lastOnlineTime?: string };

export function emptyChange(): StatusChange {
  return { twins: {} };
}

/** Folds `next` into `acc` (in place): per property and field the later report wins. */
export function mergeChange(acc: StatusChange, next: StatusChange): StatusChange {
  for (const [name, r] of Object.entries(next.twins)) {
    const cur = (acc.twins[name] ??= {});
    if (r.reported !== undefined) cur.reported = r.reported;
    if (r.observedDesired !== undefined) cur.observedDesired = r.observedDesired;
  }
  if (next.state !== undefined) acc.state = next.state;
  if (next.lastOnlineTime !== undefined) acc.lastOnlineTime = next.lastOnlineTime;
  return acc;
}

/**
 * How urgent writing a status is: `none` = the API server already has it; `lazy` = only the last online time
 * moved (the edge stamps it on every state report, so it alone is refreshed rarely); `now` = a value changed.
 */
export type Urgency = 'none' | 'lazy' | 'now';

/**
 * The status after `change`, and whether writing it is worth an API call. A value counts as changed when its
 * value or type differs; a new timestamp alone is no change (every report carries one), so an unchanged reading
 * keeps the metadata of the report that first brought it.
 */
export function applyChange(status: DeviceStatus | undefined, change: StatusChange): { status: DeviceStatus; urgency: Urgency } {
  const twins: StatusTwin[] = (status?.twins ?? []).map((t) => ({ ...t }));
  let now = false;
  for (const [name, r] of Object.entries(change.twins)) {
    let t = twins.find((x) => x.propertyName === name);
    if (t === undefined) {
      t = { propertyName: name };
      twins.push(t);
    }
    if (r.reported !== undefined && !sameValue(t.reported, r.reported)) {
      t.reported = r.reported;
      now = true;
    }
    if (r.observedDesired !== undefined && !sameValue(t.observedDesired, r.observedDesired)) {
      t.observedDesired = r.observedDesired;
      now = true;
    }
  }
  const out: DeviceStatus = { ...status, twins };
  if (change.state !== undefined && change.state !== status?.state) {
    out.state = change.state;
    now = true;
  }
  let lazy = false;
  if (change.lastOnlineTime !== undefined && change.lastOnlineTime !== status?.lastOnlineTime) {
    out.lastOnlineTime = change.lastOnlineTime;
    // The first one is news (the device was never seen online); later ones only refresh it.
    if (status?.lastOnlineTime === undefined) now = true;
    else lazy = true;
  }
  return { status: out, urgency: now ? 'now' : lazy ? 'lazy' : 'none' };
}

function sameValue(a: TwinValue | undefined, b: TwinValue): boolean {
  return a !== undefined && a.value === b.value && (a.metadata?.['type'] ?? '') === (b.metadata['type'] ?? '');
}

/** The merge patch of a whole status (`twins` is a list: a merge patch replaces it, so it is always sent whole). */
export function statusPatch(status: DeviceStatus): { status: DeviceStatus } {
  return { status };
}
