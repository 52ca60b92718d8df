export type JobCondition = {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
};

export function rfc3339(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function hasCondition(conds: JobCondition[] | undefined, type: string): boolean {
  return (conds ?? []).some((c) => c.type === type && c.status === 'True');
}

/** Sets `type` to True (or the given status) with reason and message; an unchanged condition keeps its times. */
export function setCondition(conds: JobCondition[], type: string, status: string, reason: string, message: string, now: string): JobCondition[] {
  const cur = conds.find((c) => c.type === type);
  if (cur !== undefined && cur.status === status && cur.reason === reason && cur.message === message) return conds;
  const next: JobCondition = {
    type,
    status,
    lastProbeTime: now,
    lastTransitionTime: cur !== undefined && cur.status === status ? (cur.lastTransitionTime ?? now) : now,
    reason,
    message,
  };
  return cur === undefined ? [...conds, next] : conds.map((c) => (c === cur ? next : c));
}

/** A finished Job: Complete or Failed is True. */
export function isJobFinished(conds: JobCondition[] | undefined): 'Complete' | 'Failed' | undefined {
  if (hasCondition(conds, 'Complete')) return 'Complete';
  if (hasCondition(conds, 'Failed')) return 'Failed';
  return undefined;
}

/** When a finished Job finished (the terminal condition's transition, else completionTime), in ms. */
export function finishedAtMs(job: Record<string, unknown>): number | undefined {
  const st = (job['status'] ?? {}) as { conditions?: JobCondition[]; completionTime?: string };
  const c = (st.conditions ?? []).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  if (c === undefined) return undefined;
  const t = Date.parse(c.lastTransitionTime ?? st.completionTime ?? '');
  return Number.isFinite(t) ? t : undefined;
}

/** `1,3-5` from a set of indexes (the Job's completedIndexes), and back. */
export function formatIndexes(ix: Iterable<number>): string {
  const sorted = [...new Set(ix)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && i - a < 100_000; i++) out.add(i);
  }
  return out;
}

/** Kubernetes' pod failure backoff for Jobs: 10 s, doubling per failure, at most 6 minutes. */
export function failureBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(10_000 * 2 ** (failures - 1), 6 * 60_000);
}
