// Test fixtures for the cloud-edge link (used by cloudhub and edgehub tests; not imported by daemon code).
import { Bus } from '../../src/core/bus.ts';
import { logger, type Logger } from '../../src/core/log.ts';
import type { Message } from '../../src/core/message.ts';
import { certDerToPem, createCA, issueKeyPair, keyDerToPem, type KeyPairDer } from '../../src/pki/x509.ts';
import WebSocket from 'ws';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CloudHub, type CloudHubOptions } from '../../src/cloud/cloudhub/cloudhub.ts';
import { CloudGroups, CloudModules } from '../../src/cloud/common/modules.ts';

export type Pem = { certPem: string; keyPem: string };

export type LinkPki = {
  caPem: string;
  server: Pem;
  /** As cloudcore v1.15.4 issues edge certs: `O=kubeEdge, CN=kubeedge.io`, clientAuth. */
  client: Pem;
  /** Signed by the right CA but only for serverAuth. */
  serverOnlyClient: Pem;
  /** A client certificate from an unrelated CA. */
  foreignClient: Pem;
};

function pem(kp: KeyPairDer): Pem {
  return { certPem: certDerToPem(kp.certDer), keyPem: keyDerToPem(kp.keyDer) };
}

export async function makePki(): Promise<LinkPki> {
  const ca = await createCA();
  const other = await createCA('Someone Else');
  const server = await issueKeyPair(ca, { subject: 'CN=cloudcore', hosts: ['127.0.0.1', 'localhost'], usages: ['serverAuth'], days: 1 });
  const client = await issueKeyPair(ca, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 1 });
  const serverOnly = await issueKeyPair(ca, { subject: 'CN=not-a-client', usages: ['serverAuth'], days: 1 });
  const foreign = await issueKeyPair(other, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 1 });
  return {
    caPem: certDerToPem(ca.certDer),
    server: pem(server),
    client: pem(client),
    serverOnlyClient: pem(serverOnly),
    foreignClient: pem(foreign),
  };
}

export function quietLog(name: string): Logger {
  const log = logger(name);
  log.level = process.env['TEST_LOG'] ?? 'silent';
  return log;
}

/** A module on a bus that records what it receives, and optionally answers. */
export class Recorder {
  readonly messages: Message[] = [];
  constructor(bus: Bus, name: string, group: string, onMessage?: (m: Message) => void) {
    bus.register(name, group, (m) => {
      this.messages.push(m);
      onMessage?.(m);
    });
  }
  find(pred: (m: Message) => boolean): Message | undefined {
    return this.messages.find(pred);
  }
}

export type CloudFixture = {
  bus: Bus;
  hub: CloudHub;
  port: number;
  edgecontroller: Recorder;
  devicecontroller: Recorder;
  stop(): Promise<void>;
};

/** CloudHub options on a free loopback port with the test PKI; `o` overrides. */
export function testHubOptions(pki: LinkPki, o: Partial<CloudHubOptions> = {}): CloudHubOptions {
  return {
    address: '127.0.0.1',
    port: 0,
    caPem: pki.caPem,
    certPem: pki.server.certPem,
    keyPem: pki.server.keyPem,
    nodeLimit: 10,
    keepaliveIntervalSec: 30,
    writeTimeoutSec: 5,
    ...o,
  };
}

/**
 * CloudHub alone (no API server, no reliable queue: nothing to keep ObjectSyncs in) on a free loopback port with
 * the test PKI, with recorders in place of the controllers; `o` overrides. The full module set is `startStack`
 * in downstream.ts, assembled as cloudcore assembles it.
 */
export async function startCloud(pki: LinkPki, o: Partial<CloudHubOptions> = {}): Promise<CloudFixture> {
  const log = quietLog('cloudhub-test');
  const bus = new Bus(log);
  const hub = new CloudHub(testHubOptions(pki, o));
  const abort = new AbortController();
  await hub.start({ bus, log, signal: abort.signal });
  const port = hub.address()?.port ?? 0;
  return {
    bus,
    hub,
    port,
    edgecontroller: new Recorder(bus, CloudModules.edgeController, CloudGroups.edgeController),
    devicecontroller: new Recorder(bus, CloudModules.deviceController, CloudGroups.deviceController),
    stop: async () => {
      abort.abort();
      await hub.stop();
      bus.close();
    },
  };
}

export type RawClient = { ws: WebSocket; frames: string[]; closed: Promise<number> };

/**
 * A bare ws client playing the edge, so tests can send arbitrary frames and see the raw text the cloud writes.
 * Rejects when the TLS handshake or the upgrade is refused.
 */
export function rawClient(
  port: number,
  tls: { caPem: string } & Partial<Pem>,
  headers: Record<string, string> = { node_id: 'edge-1', project_id: 'p1', ConnectionUse: 'msg' },
): Promise<RawClient> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/p1/${headers['node_id'] ?? 'x'}/events`, {
    headers,
    ca: tls.caPem,
    ...(tls.certPem !== undefined ? { cert: tls.certPem } : {}),
    ...(tls.keyPem !== undefined ? { key: tls.keyPem } : {}),
    perMessageDeflate: false,
  });
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, closed }));
    ws.once('error', reject);
  });
}

/** Polls until `cond` holds; fails with `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TCP relay whose traffic can be silently swallowed: a link that is dead without any FIN or RST. */
export async function blackholeProxy(target: number): Promise<{ port: number; freeze(): void; stall(): void; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const pairs: { frozen: boolean; stall: () => void }[] = [];
  const server: Server = createServer((down) => {
    const up = connect(target, '127.0.0.1');
    const pair = { frozen: false, stall: () => {} };
    pairs.push(pair);
    sockets.push(down, up);
    down.on('data', (d) => {
      if (!pair.frozen) up.write(d);
    });
    up.on('data', (d) => {
      if (!pair.frozen) down.write(d);
    });
    pair.stall = () => up.pause();
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    /** Swallows everything on the connections open now; later connections relay normally. */
    freeze: () => {
      for (const p of pairs) p.frozen = true;
    },
    /** Stops reading from the cloud side on the connections open now, so the cloud's writes back up. */
    stall: () => {
      for (const p of pairs) p.stall();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
