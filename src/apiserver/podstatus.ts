import type { KObj } from './store.ts';

function o(v: unknown): KObj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as KObj) : {};
}
function arr(v: unknown): KObj[] {
  return Array.isArray(v) ? (v as KObj[]) : [];
}

function hasCondition(st: KObj, type: string): boolean {
  return arr(st['conditions']).some((c) => c['type'] === type && c['status'] === 'True');
}

/** The STATUS column, computed the way kubectl's pod printer does. */
export function podStatusReason(pod: KObj): string {
  const st = o(pod['status']);
  const spec = o(pod['spec']);
  let reason = String(st['phase'] ?? '');
  if (typeof st['reason'] === 'string' && st['reason'] !== '') reason = st['reason'];
  for (const c of arr(st['conditions'])) {
    if (c['type'] === 'PodScheduled' && c['reason'] === 'SchedulingGated') reason = 'SchedulingGated';
  }
  let initializing = false;
  const inits = arr(st['initContainerStatuses']);
  const initSpecs = arr(spec['initContainers']);
  for (let i = 0; i < inits.length; i++) {
    const c = o(inits[i]);
    const state = o(c['state']);
    const term = state['terminated'] === undefined ? undefined : o(state['terminated']);
    const wait = state['waiting'] === undefined ? undefined : o(state['waiting']);
    const sidecar = initSpecs.find((s) => s['name'] === c['name'])?.['restartPolicy'] === 'Always';
    if (term !== undefined && term['exitCode'] === 0) continue;
    if (sidecar && c['started'] === true) continue;
    if (term !== undefined) {
      if (typeof term['reason'] === 'string' && term['reason'] !== '') reason = `Init:${term['reason']}`;
      else if (typeof term['signal'] === 'number' && term['signal'] !== 0) reason = `Init:Signal:${term['signal']}`;
      else reason = `Init:ExitCode:${term['exitCode'] ?? 0}`;
    } else if (wait !== undefined && typeof wait['reason'] === 'string' && wait['reason'] !== '' && wait['reason'] !== 'PodInitializing') {
      reason = `Init:${wait['reason']}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }
  if (!initializing || hasCondition(st, 'Initialized')) {
    let hasRunning = false;
    const cs = arr(st['containerStatuses']);
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = o(cs[i]);
      const state = o(c['state']);
      const wait = state['waiting'] === undefined ? undefined : o(state['waiting']);
      const term = state['terminated'] === undefined ? undefined : o(state['terminated']);
      if (wait !== undefined && typeof wait['reason'] === 'string' && wait['reason'] !== '') reason = wait['reason'];
      else if (term !== undefined && typeof term['reason'] === 'string' && term['reason'] !== '') reason = term['reason'];
      else if (term !== undefined) {
        reason = typeof term['signal'] === 'number' && term['signal'] !== 0 ? `Signal:${term['signal']}` : `ExitCode:${term['exitCode'] ?? 0}`;
      } else if (c['ready'] === true && state['running'] !== undefined) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(st, 'Ready') ? 'Running' : 'NotReady';
  }
  const md = o(pod['metadata']);
  const phase = st['phase'];
  if (md['deletionTimestamp'] !== undefined && st['reason'] === 'NodeLost') reason = 'Unknown';
  else if (md['deletionTimestamp'] !== undefined && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  return reason;
}

export function podReadyCount(pod: KObj): string {
  const spec = o(pod['spec']);
  const st = o(pod['status']);
  const total = arr(spec['containers']).length;
  const ready = arr(st['containerStatuses']).filter((c) => c['ready'] === true && o(c['state'])['running'] !== undefined).length;
  return `${ready}/${total}`;
}

export function podRestarts(pod: KObj): string {
  const st = o(pod['status']);
  let n = 0;
  for (const c of [...arr(st['initContainerStatuses']), ...arr(st['containerStatuses'])]) n += Number(c['restartCount'] ?? 0);
  return String(n);
}
