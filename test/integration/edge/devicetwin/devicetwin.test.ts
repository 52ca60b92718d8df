import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { Bus } from '../../../../src/core/bus.ts';
import { newMessage, newResponse, type Message } from '../../../../src/core/message.ts';
import { ModuleRuntime } from '../../../../src/core/module.ts';
import { DeviceTwin } from '../../../../src/edge/devicetwin/devicetwin.ts';
import { EdgeHub } from '../../../../src/edge/edgehub/edgehub.ts';
import { EventBus, type MqttMode } from '../../../../src/edge/eventbus/eventbus.ts';
import { MetaManager } from '../../../../src/edge/metamanager/metamanager.ts';
import { makePki, quietLog, startCloud, waitFor, type CloudFixture, type LinkPki } from '../../../helpers/cloudhub.ts';
import { freePort, mosquittoAvailable, mosquittoSub, startMosquitto, type Mosquitto } from '../../../helpers/mqtt.ts';
import { skipUnless } from '../../../helpers/tools.ts';

const NODE = 'edge-twin';
const DEVICE_TOPIC = '$hw/events/device/default/thermo';
const skip = skipUnless(mosquittoAvailable(), 'mosquitto and mosquitto-clients');

type Edge = { twin: DeviceTwin; eventbus: EventBus; stop(): Promise<void> };

async function startEdge(o: { pki: LinkPki; cloudPort: number; db: string; mode: MqttMode; internal: number; external: number }): Promise<Edge> {
  const log = quietLog('twin-test');
  const bus = new Bus(log);
  const rt = new ModuleRuntime(bus, log);
  rt.add(new MetaManager({ dataSource: o.db }));
  const eventbus = new EventBus({
    nodeName: NODE,
    dataSource: o.db,
    mqttMode: o.mode,
    mqttServerInternal: `tcp://127.0.0.1:${o.internal}`,
    mqttServerExternal: `tcp://127.0.0.1:${o.external}`,
    mqttQOS: 0,
    mqttRetain: false,
    mqttSessionQueueSize: 100,
    mqttSubClientID: '',
    mqttPubClientID: '',
    mqttUsername: '',
    mqttPassword: '',
    tls: { enable: false, caFile: '', certFile: '', keyFile: '' },
    externalBackoff: { initialMs: 50, maxMs: 500 },
  });
  rt.add(eventbus);
  const twin = new DeviceTwin({ nodeName: NODE, dataSource: o.db, cloudTimeoutMs: 5000 });
  rt.add(twin);
  rt.add(
    new EdgeHub({
      server: `127.0.0.1:${o.cloudPort}`,
      projectId: 'e632aba927ea4ac2b575ec1603d56f10',
      nodeName: NODE,
      heartbeatSec: 15,
      handshakeTimeoutSec: 5,
      tls: async () => ({ caPem: o.pki.caPem, ...o.pki.client }),
      backoff: { initialMs: 50, maxMs: 300 },
    }),
  );
  await rt.start();
  return { twin, eventbus, stop: () => rt.stop() };
}

/** A cloud that answers twin reports as KubeEdge v1.15's DeviceController does (response "OK" to node/N/twin). */
async function startTestCloud(pki: LinkPki, port: number): Promise<CloudFixture> {
  const cloud = await startCloud(pki, { port });
  cloud.bus.register('devicecontroller', 'devicecontroller', (m) => {
    cloud.devicecontroller.messages.push(m);
    if ((m.route.resource ?? '').endsWith('twin/edge_updated')) {
      const r = newResponse(m, 'OK', { source: 'devicecontroller', group: 'twin' });
      r.route.resource = `node/${NODE}/twin`;
      cloud.bus.send('cloudhub', r);
    }
  });
  return cloud;
}

/** As KubeEdge v1.15's DeviceController: membership by bare name (v1.17: `<ns>/<name>`), then the model and the Device. */
function addThermometer(cloud: CloudFixture, setpoint: string, memberId = 'thermo'): void {
  cloud.bus.send(
    'cloudhub',
    newMessage({
      source: 'devicecontroller',
      group: 'resource',
      operation: 'insert',
      resource: `node/${NODE}/default/devicemodel/thermo-model`,
      content: {
        apiVersion: 'devices.kubeedge.io/v1beta1',
        kind: 'DeviceModel',
        metadata: { name: 'thermo-model', namespace: 'default', resourceVersion: '9' },
        spec: {
          protocol: 'virtual',
          properties: [
            { name: 'temperature', type: 'INT', accessMode: 'ReadOnly' },
            { name: 'setpoint', type: 'INT', accessMode: 'ReadWrite' },
          ],
        },
      },
    }),
  );
  cloud.bus.send(
    'cloudhub',
    newMessage({
      source: 'devicecontroller',
      group: 'twin',
      operation: 'update',
      resource: `node/${NODE}/membership`,
      content: { event_id: 'm1', timestamp: Date.now(), added_devices: [{ id: memberId, name: 'thermo' }], removed_devices: [] },
    }),
  );
  cloud.bus.send(
    'cloudhub',
    newMessage({
      source: 'devicecontroller',
      group: 'resource',
      operation: 'insert',
      resource: `node/${NODE}/default/device/thermo`,
      resourceVersion: '10',
      content: {
        apiVersion: 'devices.kubeedge.io/v1beta1',
        kind: 'Device',
        metadata: { name: 'thermo', namespace: 'default', resourceVersion: '10' },
        spec: {
          deviceModelRef: { name: 'thermo-model' },
          nodeName: NODE,
          properties: [{ name: 'temperature' }, { name: 'setpoint', desired: { value: setpoint } }],
        },
      },
    }),
  );
}

/** Reports come under the id the cloud named the device by. */
function reports(cloud: CloudFixture, cloudId = 'thermo'): Message[] {
  return cloud.devicecontroller.messages.filter((m) => m.route.resource === `node/${NODE}/device/${cloudId}/twin/edge_updated`);
}

function reported(m: Message | undefined, prop: string): string | undefined {
  const c = (typeof m?.content === 'string' ? JSON.parse(m.content) : m?.content) as { twin?: Record<string, { actual?: { value?: string } }> } | undefined;
  return c?.twin?.[prop]?.actual?.value;
}

let pki: LinkPki;
before(async () => {
  pki = await makePki();
});

for (const mode of [0, 1, 2] as const) {
  describe(`mqttMode ${mode}: DeviceTwin and EventBus against a test cloud speaking KubeEdge's wire`, { skip }, () => {
    let dir: string;
    let cloud: CloudFixture;
    let edge: Edge;
    let mosquitto: Mosquitto | undefined;
    let brokerPort: number;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `twin-${mode}-`));
      const internal = await freePort();
      if (mode >= 1) mosquitto = await startMosquitto();
      // where devices and mosquitto_sub talk: the embedded broker in mode 0, the external one in 1 and 2
      brokerPort = mode === 0 ? internal : (mosquitto?.port ?? 0);
      cloud = await startTestCloud(pki, await freePort());
      edge = await startEdge({ pki, cloudPort: cloud.port, db: join(dir, 'edgecore.db'), mode, internal, external: mosquitto?.port ?? (await freePort()) });
      await waitFor(() => cloud.hub.isConnected(NODE), 'edge connected', 10_000);
      if (mode >= 1) await waitFor(() => edge.eventbus.externalConnected, 'eventbus connected to mosquitto', 10_000);
    });
    after(async () => {
      await edge?.stop();
      await cloud?.stop();
      await mosquitto?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('on connect the edge asks for membership/detail as KubeEdge v1.15 does', async () => {
      await waitFor(() => cloud.devicecontroller.messages.some((m) => m.route.resource === `node/${NODE}/membership/detail`), 'membership/detail', 10_000);
      const m = cloud.devicecontroller.messages.find((x) => x.route.resource === `node/${NODE}/membership/detail`);
      assert.equal(m?.route.operation, 'get');
      assert.equal(m?.route.source, 'twin');
      assert.equal(m?.route.group, 'resource');
      const c = JSON.parse(String(m?.content)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(c), ['event_type', 'event_id', 'group_id', 'operation', 'timestamp']);
      assert.equal(c['group_id'], NODE);
    });

    test('a device added in the cloud gets its desired value published as delta; a reported value reaches the cloud and mosquitto_sub sees the result', async () => {
      const delta = await mosquittoSub(brokerPort, '$hw/events/device/+/+/twin/update/delta', '$hw/events/device/probe/probe/twin/update/delta');
      const results = await mosquittoSub(brokerPort, '$hw/events/device/+/+/twin/update/result', '$hw/events/device/probe/probe/twin/update/result');
      try {
        addThermometer(cloud, '25');
        await waitFor(() => edge.twin.device('default/thermo')?.twin?.['setpoint']?.expected?.value === '25', 'desired stored', 10_000);
        await waitFor(() => delta.lines.some((l) => l.startsWith(`${DEVICE_TOPIC}/twin/update/delta `)), 'delta published', 10_000);
        const d = JSON.parse(
          delta.lines
            .find((l) => l.startsWith(`${DEVICE_TOPIC}/twin/update/delta `))
            ?.split(' ')
            .slice(1)
            .join(' ') ?? '{}',
        ) as { delta?: Record<string, string> };
        assert.deepEqual(d.delta, { setpoint: '25' });

        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`);
        await client.publishAsync(
          `${DEVICE_TOPIC}/twin/update`,
          JSON.stringify({ event_id: 'ev-1', timestamp: Date.now(), twin: { temperature: { actual: { value: '21' }, metadata: { type: 'int' } } } }),
        );
        await client.endAsync();
        await waitFor(() => results.lines.some((l) => l.startsWith(`${DEVICE_TOPIC}/twin/update/result `)), 'update result', 10_000);
        const line = results.lines.find((l) => l.startsWith(`${DEVICE_TOPIC}/twin/update/result `)) ?? '';
        const payload = JSON.parse(line.slice(line.indexOf(' ') + 1)) as {
          event_id: string;
          timestamp: number;
          twin: Record<string, { actual: { value: string; metadata: { timestamp: number } }; optional: boolean; metadata: { type: string } }>;
        };
        assert.equal(payload.event_id, 'ev-1');
        assert.equal(payload.twin['temperature']?.actual.value, '21');
        assert.equal(typeof payload.twin['temperature']?.actual.metadata.timestamp, 'number');
        assert.equal(payload.twin['temperature']?.metadata.type, 'int');
        await waitFor(() => reports(cloud).some((m) => reported(m, 'temperature') === '21'), 'edge_updated at the cloud', 10_000);
        const up = reports(cloud).find((m) => reported(m, 'temperature') === '21');
        assert.equal(up?.route.source, 'twin');
        assert.equal(up?.route.operation, 'update');
        const c = up?.content as { twin: Record<string, { actual_version?: { cloud: number; edge: number }; expected?: { value: string } }> };
        assert.deepEqual(c.twin['temperature']?.actual_version, { cloud: 0, edge: 1 });
        assert.equal(c.twin['setpoint']?.expected?.value, '25', 'observed desired goes up with the report');
      } finally {
        delta.stop();
        results.stop();
      }
    });

    test('twin/get, state/update and membership/get answer on their result topics; the state goes up to the cloud', async () => {
      const sub = await mosquittoSub(brokerPort, '$hw/events/#', '$hw/events/probe');
      try {
        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`);
        await client.publishAsync(`${DEVICE_TOPIC}/twin/get`, JSON.stringify({ event_id: 'g1', timestamp: Date.now() }));
        await client.publishAsync(`${DEVICE_TOPIC}/state/update`, JSON.stringify({ event_id: 's1', timestamp: Date.now(), state: 'online' }));
        await client.publishAsync(`$hw/events/node/${NODE}/membership/get`, JSON.stringify({ event_id: 'mg1', timestamp: Date.now() }));
        // a client written for KubeEdge v1.15 names the device without its namespace and hears back on that form
        await client.publishAsync(
          '$hw/events/device/thermo/twin/update',
          JSON.stringify({ event_id: 'legacy-1', timestamp: Date.now(), twin: { temperature: { actual: { value: '22' } } } }),
        );
        await client.endAsync();
        const payloadOf = (topic: string) => {
          const l = sub.lines.find((x) => x.startsWith(`${topic} `));
          return l === undefined ? undefined : (JSON.parse(l.slice(topic.length + 1)) as Record<string, unknown>);
        };
        await waitFor(
          () =>
            payloadOf(`${DEVICE_TOPIC}/twin/get/result`) !== undefined &&
            payloadOf(`${DEVICE_TOPIC}/state/update/result`) !== undefined &&
            payloadOf(`$hw/events/node/${NODE}/membership/get/result`) !== undefined &&
            payloadOf('$hw/events/device/thermo/twin/update/result') !== undefined,
          'four results',
          10_000,
        );
        const get = payloadOf(`${DEVICE_TOPIC}/twin/get/result`) as {
          event_id: string;
          twin: Record<string, { actual?: { value: string }; expected_version?: unknown }>;
        };
        assert.equal(get.event_id, 'g1');
        assert.equal(get.twin['temperature']?.actual?.value, '21');
        assert.equal(get.twin['temperature']?.expected_version, undefined, 'versions stay on the edge');
        assert.equal((payloadOf('$hw/events/device/thermo/twin/update/result') as { event_id: string }).event_id, 'legacy-1');
        await waitFor(() => edge.twin.device('default/thermo')?.twin?.['temperature']?.actual?.value === '22', 'bare-name update stored', 10_000);
        const state = payloadOf(`${DEVICE_TOPIC}/state/update/result`) as { device: { name: string; state: string; last_online: string } };
        assert.equal(state.device.name, 'thermo');
        assert.equal(state.device.state, 'online');
        assert.match(state.device.last_online, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
        const members = payloadOf(`$hw/events/node/${NODE}/membership/get/result`) as { event_id: string; devices: Array<{ id: string; name: string }> };
        assert.equal(members.event_id, 'mg1');
        assert.deepEqual(
          members.devices.map((d) => [d.id, d.name]),
          [['default/thermo', 'thermo']],
        );
        await waitFor(
          () => cloud.devicecontroller.messages.some((m) => m.route.resource === `node/${NODE}/device/thermo/state/update`),
          'state at the cloud',
          10_000,
        );
      } finally {
        sub.stop();
      }
    });

    test('a stale cloud update never overwrites a newer value; the edge answers with its own', async () => {
      const before = reports(cloud).length;
      cloud.bus.send(
        'cloudhub',
        newMessage({
          source: 'devicecontroller',
          group: 'twin',
          operation: 'update',
          resource: `node/${NODE}/device/default/thermo/twin/cloud_updated`,
          content: { event_id: 's1', timestamp: Date.now(), twin: { setpoint: { expected: { value: '5' }, expected_version: { cloud: 0, edge: 0 } } } },
        }),
      );
      await waitFor(() => reports(cloud).length > before, 'the edge answers a refused sync', 10_000);
      assert.equal(edge.twin.device('default/thermo')?.twin?.['setpoint']?.expected?.value, '25');
      const newer = edge.twin.device('default/thermo')?.twin?.['setpoint']?.expected_version ?? { cloud: 0, edge: 0 };
      cloud.bus.send(
        'cloudhub',
        newMessage({
          source: 'devicecontroller',
          group: 'twin',
          operation: 'update',
          resource: `node/${NODE}/device/default/thermo/twin/cloud_updated`,
          content: {
            event_id: 's2',
            timestamp: Date.now(),
            twin: { setpoint: { expected: { value: '30' }, expected_version: { cloud: newer.cloud + 1, edge: newer.edge } } },
          },
        }),
      );
      await waitFor(() => edge.twin.device('default/thermo')?.twin?.['setpoint']?.expected?.value === '30', 'newer cloud value applied', 10_000);
    });
  });
}

describe("offline: DeviceTwin against a test cloud speaking KubeEdge's wire that goes away", { skip }, () => {
  test('reports made while the cloud is away, and across an edgecore restart, reach the cloud when it returns (last value wins)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-offline-'));
    const db = join(dir, 'edgecore.db');
    const cloudPort = await freePort();
    const internal = await freePort();
    let cloud = await startTestCloud(pki, cloudPort);
    let edge = await startEdge({ pki, cloudPort, db, mode: 0, internal, external: await freePort() });
    try {
      await waitFor(() => cloud.hub.isConnected(NODE), 'edge connected', 10_000);
      addThermometer(cloud, '25', 'default/thermo');
      await waitFor(() => edge.twin.device('default/thermo')?.twin?.['setpoint'] !== undefined, 'device arrived', 10_000);
      await cloud.stop();
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${internal}`);
      await client.publishAsync(`${DEVICE_TOPIC}/state/update`, JSON.stringify({ event_id: 'st', timestamp: Date.now(), state: 'offline' }));
      for (const v of ['22', '23']) {
        await client.publishAsync(
          `${DEVICE_TOPIC}/twin/update`,
          JSON.stringify({ event_id: `o-${v}`, timestamp: Date.now(), twin: { temperature: { actual: { value: v } } } }),
        );
      }
      await client.endAsync();
      await waitFor(() => edge.twin.device('default/thermo')?.twin?.['temperature']?.actual?.value === '23', 'stored offline', 10_000);
      // edgecore restarts while the cloud is still away: nothing is lost
      await edge.stop();
      edge = await startEdge({ pki, cloudPort, db, mode: 0, internal, external: await freePort() });
      assert.equal(edge.twin.device('default/thermo')?.twin?.['temperature']?.actual?.value, '23');
      assert.equal(edge.twin.device('default/thermo')?.twin?.['setpoint']?.expected?.value, '25');
      cloud = await startTestCloud(pki, cloudPort);
      await waitFor(() => reports(cloud, 'default/thermo').length > 0, 'report after the cloud returned', 20_000);
      assert.equal(reported(reports(cloud, 'default/thermo').at(-1), 'temperature'), '23');
      const states = () => cloud.devicecontroller.messages.filter((m) => m.route.resource === `node/${NODE}/device/default/thermo/state/update`);
      await waitFor(() => states().length > 0, 'state after the cloud returned', 20_000);
      assert.equal((JSON.parse(String(states().at(-1)?.content)) as { device: { state: string } }).device.state, 'offline');
    } finally {
      await edge.stop();
      await cloud.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
