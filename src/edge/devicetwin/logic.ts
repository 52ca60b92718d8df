import { DELETED, type MsgTwin, type TwinVersion } from './types.ts';

/**
 * `rest`: an update from the edge (MQTT, a mapper): always accepted, the edge version goes up by one.
 * `sync`: a state from the cloud carrying versions: refused for a property whose stored version is newer, so a
 * late or replayed cloud message never overwrites a newer value (KubeEdge's dealVersion).
 */
export type DealType = 'rest' | 'sync';

export type TwinDoc = { last: MsgTwin | null; current: MsgTwin | null };

export type TwinChange = {
  /** The twins after the change (the whole set of the device). */
  twins: Record<string, MsgTwin>;
  /** Per property as KubeEdge's update result reports it (rest only); null for a deleted one. */
  result: Record<string, MsgTwin | null>;
  /** What the cloud must hear: the edge's changes (rest) or the edge's newer state for refused properties (sync). */
  sync: Record<string, MsgTwin>;
  document: Record<string, TwinDoc>;
  /** Property names whose stored row changed. */
  changed: string[];
  /** Set when a rest update is refused as a whole (bad value for its type). */
  error?: string;
};

const KEY_RE = /^[a-zA-Z0-9-_.,:/@#]{1,128}$/;
const VALUE_RE = /^[a-zA-Z0-9-_.,:/@#\s]{0,512}$/;

/** KubeEdge's dtcommon.ValidateTwinKey / ValidateTwinValue. */
export function validKey(k: string): boolean {
  return KEY_RE.test(k);
}

export function validValue(v: string): boolean {
  return VALUE_RE.test(v);
}

/** KubeEdge's dtcommon.ValidateValue: a value must parse as the twin's declared type. */
export function valueFitsType(type: string, value: string): boolean {
  switch (type.toLowerCase()) {
    case '':
    case 'string':
    case 'bytes':
    case 'stream':
      return true;
    case 'int':
    case 'integer':
      return /^[+-]?\d+$/.test(value);
    case 'float':
    case 'double':
      return value.trim() !== '' && Number.isFinite(Number(value));
    case 'boolean':
    case 'bool':
      return /^(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.test(value);
    case DELETED:
      return true;
    default:
      return true;
  }
}

function typeOf(t: MsgTwin | undefined): string {
  return t?.metadata?.type ?? 'string';
}

function isDeleted(t: MsgTwin | undefined): boolean {
  return t?.metadata?.type === DELETED;
}

/** Returns the new version, or undefined when a sync must be refused (stored is newer). */
function nextVersion(stored: TwinVersion | undefined, req: TwinVersion | undefined, deal: DealType): TwinVersion | undefined {
  const cur = stored ?? { cloud: 0, edge: 0 };
  if (deal === 'rest') return { cloud: cur.cloud, edge: cur.edge + 1 };
  if (req === undefined) return undefined;
  if (cur.cloud > req.cloud || cur.edge > req.edge) return undefined;
  return { cloud: req.cloud, edge: req.edge };
}

/**
 * Applies a `twin` map (from `$hw/events/device/<id>/twin/update`, a mapper, or the cloud) to a device's stored
 * twins. Pure: the caller persists `changed` and sends `result`/`sync`/`document`.
 */
export function applyTwinUpdate(
  stored: Readonly<Record<string, MsgTwin>>,
  incoming: Readonly<Record<string, MsgTwin | null>>,
  deal: DealType,
  now: number,
): TwinChange {
  const twins = structuredClone(stored) as Record<string, MsgTwin>;
  const out: TwinChange = { twins, result: {}, sync: {}, document: {}, changed: [] };
  for (const [key, msg] of Object.entries(incoming)) {
    if (!validKey(key))
      return { ...out, twins: structuredClone(stored) as Record<string, MsgTwin>, changed: [], error: `invalid twin key ${key.slice(0, 64)}` };
    if (msg !== null && (typeof msg !== 'object' || Array.isArray(msg)))
      return { ...out, twins: structuredClone(stored) as Record<string, MsgTwin>, changed: [], error: `twin ${key} is not an object` };
    for (const v of [msg?.expected?.value, msg?.actual?.value] as unknown[]) {
      // KubeEdge's twin values are JSON strings; a number or object does not unmarshal
      if (v !== undefined && typeof v !== 'string')
        return { ...out, twins: structuredClone(stored) as Record<string, MsgTwin>, changed: [], error: `the value of twin ${key} must be a string` };
      if (v !== undefined && v !== '' && !validValue(v))
        return { ...out, twins: structuredClone(stored) as Record<string, MsgTwin>, changed: [], error: `invalid value of twin ${key}` };
    }
  }
  for (const [key, msg] of Object.entries(incoming)) {
    const cur = twins[key];
    if (msg === null || (deal === 'sync' && isDeleted(msg))) {
      if (cur === undefined || isDeleted(cur)) continue;
      if (deal === 'rest' && cur.optional === false) continue;
      const last = structuredClone(cur);
      const ev = nextVersion(cur.expected_version, msg?.expected_version, deal);
      const av = nextVersion(cur.actual_version, msg?.actual_version, deal);
      if (deal === 'sync' && (ev === undefined || av === undefined)) {
        out.sync[key] = structuredClone(cur);
        continue;
      }
      const gone: MsgTwin = { optional: cur.optional ?? true, metadata: { type: DELETED } };
      if (ev !== undefined) gone.expected_version = ev;
      if (av !== undefined) gone.actual_version = av;
      twins[key] = gone;
      out.document[key] = { last: withoutVersionsCopy(last), current: null };
      out.changed.push(key);
      out.result[key] = null;
      if (deal === 'rest') out.sync[key] = structuredClone(gone);
      continue;
    }
    const isNew = cur === undefined || isDeleted(cur);
    const type = isNew ? (msg.metadata?.type ?? 'string') : typeOf(cur);
    for (const v of [msg.expected?.value, msg.actual?.value]) {
      if (v !== undefined && !valueFitsType(type, v)) {
        if (deal === 'rest')
          return {
            ...out,
            twins: structuredClone(stored) as Record<string, MsgTwin>,
            changed: [],
            error: `the value ${v} of twin ${key} is not of type ${type}`,
          };
      }
    }
    const next: MsgTwin = isNew ? { optional: msg.optional ?? true, metadata: { type } } : structuredClone(cur);
    if (isNew && cur !== undefined) {
      // a deleted twin keeps its versions so that an older cloud message still cannot resurrect it
      if (cur.expected_version !== undefined) next.expected_version = cur.expected_version;
      if (cur.actual_version !== undefined) next.actual_version = cur.actual_version;
    }
    const res: MsgTwin = {};
    let refused = false;
    let touched = isNew;
    if (msg.expected?.value !== undefined) {
      const v = nextVersion(next.expected_version, msg.expected_version, deal);
      if (v === undefined) refused = true;
      else if (
        deal === 'rest' ||
        next.expected?.value !== msg.expected.value ||
        v.cloud !== next.expected_version?.cloud ||
        v.edge !== next.expected_version?.edge
      ) {
        next.expected = { value: msg.expected.value, metadata: { timestamp: now } };
        next.expected_version = v;
        res.expected = structuredClone(next.expected);
        res.expected_version = v;
        touched = true;
      }
    }
    if (!refused && msg.actual?.value !== undefined) {
      const v = nextVersion(next.actual_version, msg.actual_version, deal);
      if (v === undefined) refused = true;
      else if (deal === 'rest' || next.actual?.value !== msg.actual.value || v.cloud !== next.actual_version?.cloud || v.edge !== next.actual_version?.edge) {
        next.actual = { value: msg.actual.value, metadata: { timestamp: now } };
        next.actual_version = v;
        res.actual = structuredClone(next.actual);
        res.actual_version = v;
        touched = true;
      }
    }
    if (refused) {
      if (cur !== undefined) out.sync[key] = structuredClone(cur);
      continue;
    }
    if (msg.optional !== undefined && msg.optional !== next.optional) {
      next.optional = msg.optional;
      touched = true;
    }
    if (msg.metadata?.type !== undefined && !isNew && msg.metadata.type !== DELETED && msg.metadata.type !== next.metadata?.type && deal === 'sync') {
      next.metadata = { type: msg.metadata.type };
      touched = true;
    }
    if (!touched) continue;
    twins[key] = next;
    out.changed.push(key);
    out.document[key] = { last: cur === undefined || isDeleted(cur) ? null : withoutVersionsCopy(cur), current: withoutVersionsCopy(next) };
    res.optional = next.optional ?? true;
    res.metadata = { type: next.metadata?.type ?? 'string' };
    if (deal === 'rest') {
      out.result[key] = withoutVersionsCopy(res);
      out.sync[key] = res;
    }
  }
  return out;
}

function withoutVersionsCopy(t: MsgTwin): MsgTwin {
  const { expected_version: _e, actual_version: _a, ...rest } = t;
  return structuredClone(rest);
}

/** KubeEdge's BuildDeviceTwinDelta: the expected values that differ from the actual ones (none: nothing to send). */
export function twinDelta(twins: Readonly<Record<string, MsgTwin>>): { twin: Record<string, MsgTwin>; delta: Record<string, string> } | undefined {
  const twin: Record<string, MsgTwin> = {};
  const delta: Record<string, string> = {};
  for (const [k, v] of Object.entries(twins)) {
    if (isDeleted(v)) continue;
    const expected = v.expected?.value ?? '';
    if (expected === '') continue;
    if (expected !== (v.actual?.value ?? '')) delta[k] = expected;
    twin[k] = withoutVersionsCopy(v);
  }
  return Object.keys(delta).length > 0 ? { twin, delta } : undefined;
}

/** What `twin/get/result` and the update result carry: live twins without versions. */
export function publicTwins(twins: Readonly<Record<string, MsgTwin>>): Record<string, MsgTwin> {
  const out: Record<string, MsgTwin> = {};
  for (const [k, v] of Object.entries(twins)) if (!isDeleted(v)) out[k] = withoutVersionsCopy(v);
  return out;
}
