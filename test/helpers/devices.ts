// Test kits for devices: cloudcore's module set with the devicecontroller over a real API server, and a WebSocket
// test edge that speaks KubeEdge v1.15's device wire (what edge/pkg/devicetwin sends). Not imported by daemon code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bus } from '../../src/core/bus.ts';
import { newMessage, type Message } from '../../src/core/message.ts';
import { ModuleRuntime } from '../../src/core/module.ts';
import { loadKubeConfig } from '../../src/kube/client.ts';
import { KubeRest, type KubeObject } from '../../src/kube/rest.ts';
import type { CloudHub } from '../../src/cloud/cloudhub/cloudhub.ts';
import type { DeviceController } from '../../src/cloud/devicecontroller/devicecontroller.ts';
import { assembleCloudModules } from '../../src/cloud/modules.ts';
import type { TestServer } from './apiserver.ts';
import { quietLog, testHubOptions, waitFor, type LinkPki } from './cloudhub.ts';
import { FakeEdge } from './downstream.ts';

export type DeviceStack = { bus: Bus; hub: CloudHub; dc: DeviceController; kube: KubeRest; port: number; stop(): Promise<void> };

export type DeviceStackOptions = { statusUpdateIntervalMs?: number; workers?: number };

/** CloudHub (with its reliable queue), EdgeController, SyncController and DeviceController, as cloudcore assembles them. */
export async function startDeviceStack(api: TestServer, pki: LinkPki, o: DeviceStackOptions = {}): Promise<DeviceStack> {
  const log = quietLog('devices-test');
  const kc = loadKubeConfig({ kubeConfig: api.kubeConfigPath });
  const kube = new KubeRest(kc);
  const bus = new Bus(log);
  const set = assembleCloudModules(
    {
      cloudHub: testHubOptions(pki, { keepaliveIntervalSec: 600, reliable: { retryIntervalMs: 2000, requeueDelayMs: 500 } }),
      edgeController: { enable: true },
      syncController: { enable: true, periodMs: 60_000 },
      deviceController: {
        enable: true,
        statusUpdateIntervalMs: o.statusUpdateIntervalMs ?? 1000,
        ...(o.workers === undefined ? {} : { updateDeviceStatusWorkers: o.workers }),
      },
      informerBackoff: { initialMs: 50, maxMs: 500 },
    },
    { kube, kubeConfig: kc, log: () => log },
  );
  const runtime = new ModuleRuntime(bus, log);
  for (const m of set.modules) runtime.add(m);
  await runtime.start();
  await set.informers.ready();
  const { hub, deviceController: dc } = set;
  if (hub === undefined || dc === undefined) throw new Error('the stack has no cloudhub or devicecontroller');
  return {
    bus,
    hub,
    dc,
    kube,
    port: hub.address()?.port ?? 0,
    stop: async () => {
      await runtime.stop();
      kube.close();
    },
  };
}

/** ../shared/acceptance/devices/<file> with EDGE_NODE replaced (relative to the checkout, as the tests must read it). */
export function acceptanceManifest(file: string, node: string): string {
  const text = readFileSync(join(import.meta.dirname, '..', '..', '..', 'shared', 'acceptance', 'devices', file), 'utf8');
  return text.replaceAll('EDGE_NODE', node);
}

/** A twin value as KubeEdge's DeviceTwin reports it (`MsgTwin` with `actual`). */
export type ReportedValue = { value: string; type?: string; expected?: string };

/**
 * A test edge speaking KubeEdge's device wire over a real WebSocket: what DeviceTwin sends to the cloud
 * (`device/<id>/twin/edge_updated`, `device/<id>/state/update`, `membership/detail`), and what it receives.
 */
export class DeviceEdge {
  readonly edge: FakeEdge;
  constructor(edge: FakeEdge) {
    this.edge = edge;
  }

  static async connect(port: number, pki: LinkPki, node: string): Promise<DeviceEdge> {
    return new DeviceEdge(await FakeEdge.connect(port, pki, node));
  }

  /** Sends a twin report and returns its message id (the cloud's "OK" names it as parent). */
  reportTwin(device: string, values: Record<string, ReportedValue>): string {
    const now = Date.now();
    const twin: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      twin[k] = {
        actual: { value: v.value, metadata: { timestamp: now } },
        ...(v.expected === undefined ? {} : { expected: { value: v.expected, metadata: { timestamp: now } } }),
        metadata: { type: v.type ?? 'int' },
      };
    }
    const m = newMessage({
      source: 'twin',
      group: 'resource',
      operation: 'update',
      resource: `device/${device}/twin/edge_updated`,
      content: { event_id: '', timestamp: now, twin },
    });
    this.edge.send(m);
    return m.header.msg_id;
  }

  /** A state report as v1.15's DeviceTwin sends it: the payload as JSON text, `last_online` in Go's layout. */
  reportState(device: string, state: string, lastOnline: string): string {
    const payload = JSON.stringify({ event_id: '', timestamp: Date.now(), device: { name: device, state, last_online: lastOnline } });
    const m = newMessage({ source: 'twin', group: 'resource', operation: 'update', resource: `device/${device}/state/update`, content: payload });
    this.edge.send(m);
    return m.header.msg_id;
  }

  /**
   * DeviceTwin's request on connect; resolves with the cloud's answer (`membership/detail` in group `twin`) once the
   * request is also confirmed (a twin "OK" naming it as parent, which stops the edge's resends).
   */
  async requestDetail(node: string): Promise<Message> {
    const content = JSON.stringify({ event_type: 'group_membership_event', event_id: 'e1', group_id: node, operation: 'detail', timestamp: Date.now() });
    const m = newMessage({ source: 'twin', group: 'resource', operation: 'get', resource: 'membership/detail', content });
    const seen = this.received.length;
    this.edge.send(m);
    const answer = await this.waitFor((x) => this.received.indexOf(x) >= seen && x.route.resource === 'membership/detail', 'membership/detail answer');
    await waitFor(() => this.acked(m.header.msg_id), 'membership/detail request confirmed', 15_000);
    return answer;
  }

  get received(): Message[] {
    return this.edge.received;
  }

  /** Membership updates received so far (their contents). */
  memberships(): { added_devices: { id: string }[]; removed_devices: { id: string }[] }[] {
    return this.received
      .filter((m) => m.route.resource === 'membership')
      .map((m) => m.content as { added_devices: { id: string }[]; removed_devices: { id: string }[] });
  }

  async waitFor(pred: (m: Message) => boolean, what: string): Promise<Message> {
    await waitFor(() => this.received.some(pred), what, 15_000);
    return this.received.filter(pred).at(-1)!;
  }

  /** The cloud's confirmation of a report (it arrives as a reply, which FakeEdge keeps with the rest). */
  acked(msgId: string): boolean {
    return this.received.some((m) => m.header.parent_msg_id === msgId && m.content === 'OK');
  }

  close(): Promise<void> {
    return this.edge.close();
  }
}

export const deviceOf = (m: Message): KubeObject => m.content as KubeObject;
