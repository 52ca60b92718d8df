import { sleep, waitUntil } from '../lib/pool.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt } from '../lib/stats.ts';
import { nodeName } from './edgemark.ts';
import type { Session } from './session.ts';

export type ReconnectOptions = { nodes: number; podsOnNodes: number; timeoutMs: number; settleMs: number };

/**
 * Restarts cloudcore (SIGTERM, start again on the same data) while N simulated nodes are attached. Measures when
 * every node has reconnected, when every node has had a status patch accepted by the new cloudcore, when the API
 * shows every node Ready with a heartbeat after the restart, and how many cloud writes (insert/update/delete) the
 * edges received after reconnecting. Nothing changes while cloudcore is down (the API server is inside it), so
 * every write received is a resend.
 */
export async function reconnectBench(s: Session, o: ReconnectOptions, out: BenchOutcome): Promise<void> {
  out.params = { nodes: o.nodes, podsOnNodes: o.podsOnNodes, changedWhileDown: 0, redialDelayMs: '1000-3000 (uniform)', settleMs: o.settleMs };
  const names = Array.from({ length: o.nodes }, (_, i) => nodeName(i));
  // Let pending acks and status echoes drain before the restart so that nothing in flight is counted as a resend.
  await sleep(4000);
  s.fleet.mark();
  const restartAt = Date.now();
  const r = await s.cloud.restart();
  const allLinks = await waitUntil(() => names.every((n) => (s.fleet.nodes.get(n)?.lastConnectAt ?? 0) > restartAt), o.timeoutMs, 200);
  const linksAt = Math.max(...names.map((n) => s.fleet.nodes.get(n)?.lastConnectAt ?? Number.NaN));
  const allStatus = await waitUntil(() => names.every((n) => (s.fleet.nodes.get(n)?.statusAt ?? 0) > restartAt), o.timeoutMs, 200);
  const statusAt = Math.max(...names.map((n) => s.fleet.nodes.get(n)?.statusAt ?? Number.NaN));
  // The API shows whole-second heartbeats: a heartbeat in or after the restart's second counts.
  const restartSec = Math.floor(restartAt / 1000) * 1000;
  // From the node watch (it resumes at its resourceVersion once the API is back), not by listing all N nodes
  // every second: such a poll is several MB of JSON a second and loaded the very cloudcore being measured.
  const readyAfter = (n: string) => s.watch.ready.get(n) === true && (s.watch.heartbeat.get(n) ?? 0) >= restartSec;
  let apiReadyAt = Number.NaN;
  let apiOk = await waitUntil(() => names.every(readyAfter), o.timeoutMs, 100);
  if (apiOk) apiReadyAt = Date.now();
  // One list to confirm what the watch said.
  const res = await s.cloud.api.request('GET', '/api/v1/nodes?labelSelector=node-role.kubernetes.io%2Fedge').catch(() => undefined);
  let listed = 0;
  if (res?.status === 200) {
    const want = new Set(names);
    for (const node of (res.body as { items: any[] }).items) {
      if (!want.has(node.metadata.name)) continue;
      const c = (node.status?.conditions ?? []).find((x: { type?: string }) => x.type === 'Ready');
      if (c?.status === 'True' && Date.parse(c.lastHeartbeatTime) >= restartSec) listed++;
    }
  }
  if (listed !== names.length) apiOk = false;
  await sleep(o.settleMs);
  const st = await s.fleet.stats();
  const since = st.sinceMark;
  const errors: Record<string, number> = {
    nodesNotReconnected: names.filter((n) => (s.fleet.nodes.get(n)?.lastConnectAt ?? 0) <= restartAt).length,
    nodesWithoutStatusAfter: names.filter((n) => (s.fleet.nodes.get(n)?.statusAt ?? 0) <= restartAt).length,
    apiNotReady: apiOk ? 0 : Math.max(1, names.length - listed),
  };
  out.errors = errors;
  out.figures = {
    cloudcoreStopMs: r.stoppedMs,
    cloudcoreApiUpMs: r.apiUpMs,
    allReconnectedMs: allLinks ? linksAt - restartAt : null,
    allStatusAcceptedMs: allStatus ? statusAt - restartAt : null,
    allReadyInApiMs: apiOk ? apiReadyAt - restartAt : null,
    writesAfterReconnect: since.writes,
    writesByOp: since.byOp,
    nodesReceivingWrites: since.nodesWithWrites,
    expectedResends: 0,
    upstreamFramesAfter: since.framesOut,
  };
  const errs = Object.values(errors).reduce((a, b) => a + b, 0);
  const q =
    errs > 0
      ? ` [${errs} errors: ${Object.entries(errors)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}]`
      : '';
  out.rows.push(
    {
      metric: 'cloudcore stop / API back',
      value: `${fmt(r.stoppedMs / 1000, 2)} / ${fmt(r.apiUpMs / 1000, 2)} s`,
      note: 'SIGTERM to exit; start to API answering',
    },
    {
      metric: `all ${o.nodes} reconnected after`,
      value: allLinks ? `${fmt((linksAt - restartAt) / 1000, 2)} s` : 'NOT ALL',
      note: `from SIGTERM; edges redial 1-3 s after losing the link${q}`,
    },
    {
      metric: `all ${o.nodes} status accepted after`,
      value: allStatus ? `${fmt((statusAt - restartAt) / 1000, 2)} s` : 'NOT ALL',
      note: 'first nodepatch answered by the new cloudcore',
    },
    {
      metric: `all ${o.nodes} Ready in API after`,
      value: apiOk ? `${fmt((apiReadyAt - restartAt) / 1000, 2)} s` : 'NOT ALL',
      note: `Ready=True with a heartbeat after the restart (node watch; confirmed by one list: ${listed}/${o.nodes})`,
    },
    {
      metric: 'cloud writes resent',
      value: `${since.writes}`,
      note: `expected 0 (nothing changed; ${o.podsOnNodes} pods on the nodes); by op ${JSON.stringify(since.byOp)}, to ${since.nodesWithWrites} nodes, within ${fmt(o.settleMs / 1000)} s after Ready`,
    },
  );
}
