import { existsSync, readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { Client, PodPlan } from './workload.ts';
import { NS } from './workload.ts';
import { sh } from './sh.ts';

/** The last cloud write a simulated edge acked for one resource. */
export type SimWrite = { op: string; rv: string; uid: string };

export type CheckInput = {
  client: Client;
  pods: PodPlan[];
  deleted: PodPlan[];
  realEdges: Array<{ name: string; dbPath: string }>;
  /** `<node>|<namespace>/<type>/<name>` → last write acked by that simulated node. */
  simWrites: Map<string, SimWrite>;
  logs: string[];
};

export type CheckResult = {
  podsChecked: number;
  lost: string[];
  duplicated: string[];
  notDeleted: string[];
  staleObjects: string[];
  stackTraces: string[];
};

type ApiPod = { metadata: { name: string; uid: string; resourceVersion: string }; spec: { nodeName?: string }; status?: { phase?: string } };
type ApiCm = { metadata: { name: string; resourceVersion: string } };

/** Running containers of one edge: `<pod uid>|<container name>` → how many. */
async function runningContainers(node: string): Promise<Map<string, number>> {
  const r = await sh('docker', [
    'ps',
    '--no-trunc',
    '--filter',
    `label=io.kubeedge-ts.node=${node}`,
    '--format',
    '{{.Label "io.kubernetes.pod.uid"}}|{{.Label "io.kubernetes.container.name"}}',
  ]);
  if (r.code !== 0) throw new Error(`docker ps: ${r.stderr}`);
  const m = new Map<string, number>();
  for (const line of r.stdout.split('\n').filter((l) => l !== '')) m.set(line, (m.get(line) ?? 0) + 1);
  return m;
}

type Row = { key: string; value: string; resource_version: string };

/** The edge's `meta` rows by key, read from its database file as it is now (WAL readers do not disturb the writer). */
function edgeRows(dbPath: string): Map<string, Row> {
  const m = new Map<string, Row>();
  if (!existsSync(dbPath)) return m;
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    for (const r of db.prepare('SELECT key, value, resource_version FROM meta').all() as Row[]) m.set(r.key, r);
  } finally {
    db.close();
  }
  return m;
}

/**
 * A stack trace in a log: a raw one on stderr (an uncaught exception, a crash) or a logged error of a kind that
 * only a bug throws (TypeError, ReferenceError, RangeError, SyntaxError). Operational errors (a refused
 * connection, a full disk) are logged with their stack by design and are not counted.
 */
export function stackTraces(text: string, file: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('{')) {
      // undici reports a refused or cut connection as TypeError('fetch failed' / 'terminated'): an operational error.
      const bug =
        /"stack":"(TypeError|ReferenceError|RangeError|SyntaxError)\b/.test(line) && !/"stack":"TypeError: (fetch failed|terminated)(\\n|")/.test(line);
      if (/"level":60/.test(line) || bug) found.push(`${file}:${i + 1}: ${line.slice(0, 300)}`);
    } else if (/^\s+at .+:\d+:\d+\)?$/.test(line) && !/^\s+at .+:\d+:\d+\)?$/.test(lines[i - 1] ?? '')) {
      found.push(`${file}:${i + 1}: ${(lines[i - 1] ?? '').slice(0, 200)} / ${line.trim()}`);
    }
  }
  return found;
}

/** Every check of the run's end state; an empty list in each field means it holds. */
export async function check(o: CheckInput): Promise<CheckResult> {
  const res: CheckResult = { podsChecked: 0, lost: [], duplicated: [], notDeleted: [], staleObjects: [], stackTraces: [] };
  const podList = await o.client.call<{ items: ApiPod[] }>('GET', `/api/v1/namespaces/${NS}/pods`);
  const cmList = await o.client.call<{ items: ApiCm[] }>('GET', `/api/v1/namespaces/${NS}/configmaps`);
  const apiPods = new Map((podList.body.items ?? []).map((p) => [p.metadata.name, p]));
  const cmRv = new Map((cmList.body.items ?? []).map((c) => [c.metadata.name, c.metadata.resourceVersion]));
  const running = new Map<string, Map<string, number>>();
  const rows = new Map<string, Map<string, Row>>();
  for (const e of o.realEdges) {
    running.set(e.name, await runningContainers(e.name));
    rows.set(e.name, edgeRows(e.dbPath));
  }
  const wanted = new Set<string>();
  for (const p of o.pods) {
    res.podsChecked++;
    const a = apiPods.get(p.name);
    if (a === undefined) {
      res.lost.push(`${p.name}: gone from the API`);
      continue;
    }
    if (a.status?.phase !== 'Running') res.lost.push(`${p.name} on ${p.node}: phase ${a.status?.phase ?? 'none'}`);
    const cmKey = `${NS}/configmap/${p.cm}`;
    const podKey = `${NS}/pod/${p.name}`;
    if (p.real) {
      wanted.add(a.metadata.uid);
      const c = running.get(p.node);
      const n = c?.get(`${a.metadata.uid}|c`) ?? 0;
      const sandboxes = c?.get(`${a.metadata.uid}|POD`) ?? 0;
      if (n === 0) res.lost.push(`${p.name} on ${p.node}: no running container`);
      if (n > 1) res.duplicated.push(`${p.name} on ${p.node}: ${n} running containers`);
      if (sandboxes > 1) res.duplicated.push(`${p.name} on ${p.node}: ${sandboxes} sandboxes`);
      const r = rows.get(p.node);
      const pr = r?.get(podKey);
      if (pr === undefined || !pr.value.includes(a.metadata.uid))
        res.staleObjects.push(`${p.node}: ${podKey} ${pr === undefined ? 'missing' : 'of another uid'}`);
      const cr = r?.get(cmKey);
      if (cr?.resource_version !== cmRv.get(p.cm)) res.staleObjects.push(`${p.node}: ${cmKey} at ${cr?.resource_version ?? 'missing'}, API ${cmRv.get(p.cm)}`);
    } else {
      const w = o.simWrites.get(`${p.node}|${podKey}`);
      if (w === undefined || w.op === 'delete' || w.uid !== a.metadata.uid) res.staleObjects.push(`${p.node}: ${podKey} last ${w?.op ?? 'never sent'}`);
      // A simulated edge never asks for its pods' ConfigMaps (a real one queries them to mount the volume); the
      // cloud sends it each one its pods use (the synccontroller, for what the node has no ObjectSync of), and
      // every change after: the last one it acked must be the latest.
      const cw = o.simWrites.get(`${p.node}|${cmKey}`);
      if (cw === undefined || cw.op === 'delete' || cw.rv !== cmRv.get(p.cm))
        res.staleObjects.push(`${p.node}: ${cmKey} ${cw === undefined ? 'never sent' : `at ${cw.rv} (last ${cw.op})`}, API ${cmRv.get(p.cm)}`);
    }
  }
  for (const p of o.deleted) {
    if (apiPods.has(p.name)) res.notDeleted.push(`${p.name} on ${p.node}: still in the API`);
    if (p.real && rows.get(p.node)?.has(`${NS}/pod/${p.name}`)) res.staleObjects.push(`${p.node}: deleted pod ${p.name} still in the edge database`);
  }
  // A running container of no wanted pod (a deleted pod's, or a second copy under another UID) runs once too often.
  for (const [node, c] of running) {
    for (const [k, n] of c) {
      const uid = k.split('|')[0] ?? '';
      if (!wanted.has(uid)) res.duplicated.push(`${node}: ${n} running container(s) ${k} of no wanted pod`);
    }
  }
  // Several pods of one node share a ConfigMap: name each stale object once.
  res.staleObjects = [...new Set(res.staleObjects)];
  for (const f of o.logs) {
    if (existsSync(f)) res.stackTraces.push(...stackTraces(readFileSync(f, 'utf8'), f));
  }
  return res;
}
