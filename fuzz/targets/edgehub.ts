// EdgeHub, MetaManager and DeviceTwin of a real edgecore (SQLite store in a temp dir) dialling a test cloud on
// loopback mutual TLS that sends what no cloudcore should: messages with any route and content, JSON that is no
// message, garbage, raw bytes beneath the WebSocket framing, and sometimes a dropped link. Afterwards the edge
// must be connected again (it redials) and nothing may have escaped to the process.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { Bus } from '../../src/core/bus.ts';
import { ModuleRuntime } from '../../src/core/module.ts';
import { DeviceTwin } from '../../src/edge/devicetwin/devicetwin.ts';
import { EdgeHub } from '../../src/edge/edgehub/edgehub.ts';
import { MetaManager } from '../../src/edge/metamanager/metamanager.ts';
import { pino } from 'pino';
import { makePki } from '../../test/helpers/cloudhub.ts';
import { FuzzFailure, type FuzzTarget } from '../lib/harness.ts';
import { framesFor, type Frame } from '../lib/messages.ts';
import { sendFrame } from './cloudhub.ts';

type Ctx = { threw: string[]; dir: string; server: Server; wss: WebSocketServer; current: () => WebSocket | undefined; runtime: ModuleRuntime; hub: EdgeHub };
export type EdgeInput = { frames: Frame[]; dropLink: boolean };

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const edgehub: FuzzTarget<EdgeInput, Ctx> = {
  name: 'edgehub',
  describe: 'EdgeHub + MetaManager + DeviceTwin of an edge: a test cloud sends malformed frames and messages, drops the link',
  async setup() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-fuzz-edge-'));
    const pki = await makePki();
    const server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true });
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    let current: WebSocket | undefined;
    wss.on('connection', (ws) => {
      current = ws;
      ws.on('error', () => {});
      ws.on('close', () => {
        if (current === ws) current = undefined;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // A module handler that throws is caught and logged by the bus; for the fuzzer it is a crash of that module.
    const threw: string[] = [];
    const log = pino(
      { level: process.env['TEST_LOG'] ?? 'error' },
      {
        write(line: string) {
          const rec = JSON.parse(line) as { msg?: string; module?: string; err?: { message?: string; stack?: string } };
          // DeviceTwin's catch-all for a message its checks let through (a TypeError, not a rejection).
          if (rec.msg === 'module handler threw' || rec.msg === 'twin message failed')
            threw.push(`${rec.module ?? ''}: ${rec.err?.stack ?? rec.err?.message ?? ''}`);
          else if (process.env['TEST_LOG'] !== undefined) process.stderr.write(line);
        },
      },
    );
    const bus = new Bus(log);
    const runtime = new ModuleRuntime(bus, log);
    const dataSource = path.join(dir, 'edgecore.db');
    const hub = new EdgeHub({
      server: `127.0.0.1:${port}`,
      projectId: 'e632aba927ea4ac2b575ec1603d56f10',
      nodeName: 'fz-node',
      heartbeatSec: 15,
      handshakeTimeoutSec: 5,
      tls: async () => ({ caPem: pki.caPem, certPem: pki.client.certPem, keyPem: pki.client.keyPem }),
      backoff: { initialMs: 10, maxMs: 50 },
    });
    runtime.add(new MetaManager({ dataSource, remoteQueryTimeout: 1 }));
    runtime.add(new DeviceTwin({ nodeName: 'fz-node', dataSource, cloudTimeoutMs: 500 }));
    runtime.add(hub);
    await runtime.start();
    const ctx: Ctx = { threw, dir, server, wss, current: () => current, runtime, hub };
    await waitConnected(ctx, 10_000);
    return ctx;
  },
  arbitrary() {
    return fc.record({ frames: fc.array(framesFor('edge'), { minLength: 1, maxLength: 6 }), dropLink: fc.boolean() });
  },
  async check(ctx, i) {
    await waitConnected(ctx, 5000);
    const ws = ctx.current();
    if (ws === undefined) throw new FuzzFailure('crash', 'edge not connected before the input');
    for (const f of i.frames) sendFrame(ws, f);
    await settle(20);
    if (i.dropLink) ws.terminate();
    await waitConnected(ctx, 5000);
    if (ctx.threw.length > 0) throw new FuzzFailure('crash', `module handler threw: ${ctx.threw.splice(0).join('\n')}`);
  },
  async teardown(ctx) {
    await ctx.runtime.stop();
    for (const c of ctx.wss.clients) c.terminate();
    ctx.wss.close();
    await new Promise<void>((r) => ctx.server.close(() => r()));
    rmSync(ctx.dir, { recursive: true, force: true });
  },
};

/** The edge is connected when the test cloud holds an open socket from it and EdgeHub says so. */
async function waitConnected(ctx: Ctx, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ws = ctx.current();
    if (ws !== undefined && ws.readyState === ws.OPEN && ctx.hub.isConnected()) return;
    if (Date.now() > end) throw new FuzzFailure('crash', `the edge did not reconnect within ${ms} ms`);
    await settle(10);
  }
}
