// A real KubeEdge v1.15.4 edgecore's first minute against our cloudcore: every frame it sent (recorded in
// /work/shared/reference/wire, kept here as a fixture) is replayed byte for byte over WebSocket/TLS with a
// client certificate from our /edge.crt, and each of our replies must have the shape the real cloudcore's had:
// the same route, the same content form (bare object with kind, {Object,Err}, bare ErrStatus, "OK") and a
// resourceversion header exactly where the real one had one.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import type { Message } from '../src/core/message.ts';
import { ensureEdgeCertificates } from '../src/edge/edgehub/certificate/bootstrap.ts';
import type { Daemon } from './helpers/daemon.ts';
import { startTestCloud } from './helpers/cloud.ts';
import { waitFor } from './helpers/tools.ts';

type Frame = { dir: 'edge->cloud' | 'cloud->edge'; data: string };
const frames: Frame[] = readFileSync(path.join(import.meta.dirname, 'fixtures/kubeedge-v1.15.4-connect.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Frame);
const node = 'wire-edge-1';
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-wire-'));
const ports = { ws: 12_000, https: 12_002, api: 16_743 };
let cloud: Daemon | undefined;

after(async () => {
  await cloud?.stop();
});

/** The form of a reply's content, as the wire README classifies them. */
function form(content: unknown): string {
  if (typeof content === 'string') return content === 'OK' ? 'OK' : 'string';
  if (content === null || typeof content !== 'object') return String(content);
  if ('Object' in content || 'Err' in content) return 'ObjectErr';
  if ('ErrStatus' in content) return 'ErrStatus';
  return 'kind' in content ? `bare ${String((content as { kind: unknown }).kind)}` : 'bare object';
}

test("frames of a real KubeEdge 1.15.4 edge get replies shaped like the real cloudcore's", { timeout: 120_000 }, async () => {
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  const { token, kubeconfig } = tc;
  const certs = await ensureEdgeCertificates({
    httpServer: `https://127.0.0.1:${ports.https}`,
    token,
    nodeName: node,
    caFile: path.join(dir, 'e/ca.crt'),
    certFile: path.join(dir, 'e/e.crt'),
    keyFile: path.join(dir, 'e/e.key'),
  });

  const ws = new WebSocket(`wss://127.0.0.1:${ports.ws}/e632aba927ea4ac2b575ec1603d56f10/${node}/events`, {
    headers: { node_id: node, project_id: 'e632aba927ea4ac2b575ec1603d56f10', ConnectionUse: 'msg' },
    ca: certs.caPem,
    cert: certs.certPem,
    key: certs.keyPem,
  });
  const replies = new Map<string, Message>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as Message;
    if (m.header.parent_msg_id !== undefined) replies.set(m.header.parent_msg_id, m);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

  const recordedReply = new Map<string, Message>();
  for (const f of frames) {
    if (f.dir !== 'cloud->edge') continue;
    const m = JSON.parse(f.data) as Message;
    if (m.header.parent_msg_id !== undefined) recordedReply.set(m.header.parent_msg_id, m);
  }

  let compared = 0;
  for (const f of frames) {
    if (f.dir !== 'edge->cloud') continue;
    // Byte for byte, trailing newline included; only the redacted host IP placeholder becomes a real address.
    ws.send(f.data.replaceAll('<NODE_IP>', '127.0.0.1'));
    const sent = JSON.parse(f.data) as Message;
    const expected = recordedReply.get(sent.header.msg_id);
    if (expected === undefined) continue;
    const got = await waitFor(async () => replies.get(sent.header.msg_id), 10_000, 20);
    assert.ok(got !== undefined);
    const what = `${sent.route.operation} ${sent.route.resource}`;
    assert.deepEqual(
      { source: got.route.source, group: got.route.group, operation: got.route.operation, resource: got.route.resource },
      { source: expected.route.source, group: expected.route.group, operation: expected.route.operation, resource: expected.route.resource },
      `route of the reply to ${what}`,
    );
    assert.equal(form(got.content), form(expected.content), `content form of the reply to ${what}`);
    assert.equal(got.header.resourceversion !== undefined, expected.header.resourceversion !== undefined, `resourceversion header on the reply to ${what}`);
    compared++;
  }
  ws.close();
  assert.equal(compared, recordedReply.size, 'every recorded reply has its counterpart');
  // What the edge registered is a node kubectl users see: the real edge's labels arrived.
  const { kubectl } = await import('./helpers/tools.ts');
  const labels = await kubectl(kubeconfig, ['get', 'node', node, '-o', 'jsonpath={.metadata.labels}']);
  assert.match(labels, /node-role.kubernetes.io\/edge/);
});
