// Test fixtures for the cloud side of pod delivery: a real API server, CloudHub, EdgeController (both halves),
// the reliable queue and the synccontroller, plus a WebSocket "fake edge". Not imported by daemon code.
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './apiserver.ts';
import { Bus } from '../../src/core/bus.ts';
import { newMessage, newResponse, toMessage, type Message } from '../../src/core/message.ts';
import { ModuleRuntime } from '../../src/core/module.ts';
import { loadKubeConfig } from '../../src/kube/client.ts';
import { KubeRest, paths, type KubeObject } from '../../src/kube/rest.ts';
import type { CloudHub, CloudHubOptions } from '../../src/cloud/cloudhub/cloudhub.ts';
import type { AuthzMode } from '../../src/cloud/edgecontroller/authz/node-authorizer.ts';
import { installKubeEdgeCrds } from '../../src/kube/crds.ts';
import { quietLog, testHubOptions, waitFor, type LinkPki } from './cloudhub.ts';
import type { SyncController } from '../../src/cloud/synccontroller/synccontroller.ts';
import type { EdgeController } from '../../src/cloud/edgecontroller/edgecontroller.ts';
import { EDGE_ROLE_LABEL } from '../../src/cloud/common/nodes.ts';
import { assembleCloudModules } from '../../src/cloud/modules.ts';

export type StackOptions = {
  retryIntervalMs?: number;
  syncPeriodMs?: number;
  /** CloudHub options on top of the test defaults (e.g. `identity`). */
  hub?: Partial<CloudHubOptions>;
  /** The node authorizer's mode (default: EdgeController's, `audit`). */
  authorization?: AuthzMode;
};

/** One cloudcore's worth of modules over an API server; `stop` leaves the API server running. */
export type CloudStack = {
  bus: Bus;
  hub: CloudHub;
  ec: EdgeController;
  sync: SyncController;
  port: number;
  stop(): Promise<void>;
};

/** cloudcore's module set, assembled as cloudcore assembles it, on a loopback CloudHub with the test PKI. */
export async function startStack(api: TestServer, pki: LinkPki, o: StackOptions = {}): Promise<CloudStack> {
  const log = quietLog('cloud-test');
  const kc = loadKubeConfig({ kubeConfig: api.kubeConfigPath });
  const kube = new KubeRest(kc);
  const bus = new Bus(log);
  const set = assembleCloudModules(
    {
      cloudHub: testHubOptions(pki, {
        keepaliveIntervalSec: 600,
        reliable: { retryIntervalMs: o.retryIntervalMs ?? 5000, requeueDelayMs: 500 },
        ...o.hub,
      }),
      edgeController: { enable: true, ...(o.authorization === undefined ? {} : { authorization: o.authorization }) },
      syncController: { enable: true, periodMs: o.syncPeriodMs ?? 60_000 },
      informerBackoff: { initialMs: 50, maxMs: 500 },
    },
    { kube, kubeConfig: kc, log: () => log },
  );
  const runtime = new ModuleRuntime(bus, log);
  for (const m of set.modules) runtime.add(m);
  await runtime.start();
  await set.informers.ready();
  const { hub, syncController: sync } = set;
  if (hub === undefined || sync === undefined) throw new Error('the stack has no cloudhub or synccontroller');
  return {
    bus,
    hub,
    ec: set.edgeController,
    sync,
    port: hub.address()?.port ?? 0,
    stop: async () => {
      await runtime.stop(); // also closes the bus
      kube.close();
    },
  };
}

export async function newApi(): Promise<{ api: TestServer; kube: KubeRest }> {
  const api = await startTestServer();
  const kube = new KubeRest(loadKubeConfig({ kubeConfig: api.kubeConfigPath }));
  await installKubeEdgeCrds(kube);
  return { api, kube };
}

export async function createNode(kube: KubeRest, name: string, edge: boolean): Promise<void> {
  await kube.create(paths.nodes(), {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: edge ? { [EDGE_ROLE_LABEL]: '' } : { 'node-role.kubernetes.io/worker': '' } },
  });
}

export function podManifest(name: string, nodeName: string, extra: { configMap?: string; secret?: string } = {}): KubeObject {
  const volumes: unknown[] = [];
  if (extra.configMap !== undefined) volumes.push({ name: 'cfg', configMap: { name: extra.configMap } });
  const env = extra.secret === undefined ? [] : [{ name: 'PW', valueFrom: { secretKeyRef: { name: extra.secret, key: 'password' } } }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { nodeName, volumes, containers: [{ name: 'main', image: 'busybox', env }] },
  };
}

/**
 * A fake edge: a bare WebSocket client with a node's identity that records what the cloud sends and, like
 * KubeEdge's metamanager, acks every insert/update/delete with "OK" (unless `ack` is off).
 */
export class FakeEdge {
  readonly received: Message[] = [];
  ack: boolean;
  readonly #ws: WebSocket;
  readonly #waiters = new Map<string, (m: Message) => void>();

  // biome-ignore lint/style/useConsistentMemberAccessibility: instances come only from FakeEdge.connect, which opens the socket first
  private constructor(ws: WebSocket, ack: boolean) {
    this.#ws = ws;
    this.ack = ack;
    ws.on('message', (d) => {
      let m: Message;
      try {
        m = toMessage(JSON.parse(d.toString()));
      } catch {
        return;
      }
      const parent = m.header.parent_msg_id;
      if (parent !== undefined && this.#waiters.has(parent)) {
        this.#waiters.get(parent)?.(m);
        this.#waiters.delete(parent);
        return;
      }
      this.received.push(m);
      const op = m.route.operation;
      if (this.ack && (op === 'insert' || op === 'update' || op === 'delete')) this.send(newResponse(m, 'OK'));
    });
  }

  /** `o.cert`: the client certificate to present (default: the shared KubeEdge 1.15 one of `pki`). */
  static connect(port: number, pki: LinkPki, nodeId: string, o: { ack?: boolean; cert?: { certPem: string; keyPem: string } } = {}): Promise<FakeEdge> {
    const cert = o.cert ?? pki.client;
    const ws = new WebSocket(`wss://127.0.0.1:${port}/p1/${nodeId}/events`, {
      headers: { node_id: nodeId, project_id: 'p1', ConnectionUse: 'msg' },
      ca: pki.caPem,
      cert: cert.certPem,
      key: cert.keyPem,
      perMessageDeflate: false,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new FakeEdge(ws, o.ack ?? true)));
      ws.once('error', reject);
    });
  }

  send(m: Message): void {
    this.#ws.send(`${JSON.stringify(m)}\n`);
  }

  /** Sends a request as edged/meta would and waits for the cloud's reply. */
  request(operation: string, resource: string, content: unknown = null): Promise<Message> {
    const m = newMessage({ source: 'edged', group: 'meta', operation, resource, content });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to ${operation} ${resource}`)), 5000);
      this.#waiters.set(m.header.msg_id, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.send(m);
    });
  }

  /** Received downstream messages for `resource` (edge form), optionally of one operation. */
  about(resource: string, operation?: string): Message[] {
    return this.received.filter((m) => m.route.resource === resource && (operation === undefined || m.route.operation === operation));
  }

  async waitFor(resource: string, operation: string, what = `${operation} ${resource}`): Promise<Message> {
    await waitFor(() => this.about(resource, operation).length > 0, what, 10_000);
    return this.about(resource, operation).at(-1)!;
  }

  onClose(cb: () => void): void {
    if (this.#ws.readyState === WebSocket.CLOSED) cb();
    else this.#ws.once('close', () => cb());
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#ws.readyState === WebSocket.CLOSED) return resolve();
      this.#ws.once('close', () => resolve());
      this.#ws.close();
    });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
