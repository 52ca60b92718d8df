import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { kubectlOk, type TestServer } from '../../../helpers/apiserver.ts';
import { makePki, type LinkPki } from '../../../helpers/cloudhub.ts';
import { acceptanceManifest, deviceOf, DeviceEdge, startDeviceStack, type DeviceStack } from '../../../helpers/devices.ts';
import { createNode, newApi, sleep } from '../../../helpers/downstream.ts';
import { kubectlPath, skipUnless, waitFor } from '../../../helpers/tools.ts';
import type { KubeObject, KubeRest } from '../../../../src/kube/rest.ts';
import type { Message } from '../../../../src/core/message.ts';

type DeviceYaml = {
  metadata: { resourceVersion: string };
  status?: { twins?: { propertyName: string; reported?: { value: string; metadata?: Record<string, string> } }[]; state?: string; lastOnlineTime?: string };
};

const DEVICE = '/apis/devices.kubeedge.io/v1beta1/namespaces/default/devices/thermo-1';
const isRes = (resource: string, op?: string) => (m: Message) => m.route.resource === resource && (op === undefined || m.route.operation === op);

describe("devicecontroller over a real API server and cloudhub (test edge speaking KubeEdge's wire)", () => {
  let pki: LinkPki;
  let api: TestServer;
  let kube: KubeRest;
  let stack: DeviceStack;
  let edge: DeviceEdge;

  before(async () => {
    skipUnless(kubectlPath() !== undefined, 'kubectl is needed');
    pki = await makePki();
    ({ api, kube } = await newApi());
    await createNode(kube, 'edge-1', true);
    await createNode(kube, 'edge-2', true);
    stack = await startDeviceStack(api, pki);
    edge = await DeviceEdge.connect(stack.port, pki, 'edge-1');
  });
  after(async () => {
    await edge?.close();
    await stack?.stop();
    kube?.close();
    await api?.cleanup();
  });

  const getDevice = async (): Promise<DeviceYaml> =>
    parseYaml(await kubectlOk(api, ['get', 'device', 'thermo-1', '-n', 'default', '-o', 'yaml'])) as DeviceYaml;

  test('kubectl apply of the acceptance thermometer: the edge gets membership, the model and the device in KubeEdge v1.15 shape', async () => {
    await kubectlOk(api, ['apply', '-f', '-'], acceptanceManifest('virtual-thermometer.yaml', 'edge-1'));
    const member = await edge.waitFor(isRes('membership', 'update'), 'membership update');
    assert.equal(member.route.source, 'devicecontroller');
    assert.equal(member.route.group, 'twin');
    const c = member.content as { event_id: string; timestamp: number; added_devices: unknown[]; removed_devices: unknown[] };
    assert.deepEqual(c.added_devices, [{ id: 'thermo-1', name: 'thermo-1' }]);
    assert.deepEqual(c.removed_devices, []);
    assert.match(c.event_id, /^[0-9a-f-]{36}$/);

    const model = await edge.waitFor(isRes('default/devicemodel/virtual-thermometer', 'insert'), 'device model insert');
    assert.equal(model.route.group, 'resource');
    assert.equal(deviceOf(model).kind, 'DeviceModel');
    assert.equal(deviceOf(model).apiVersion, 'devices.kubeedge.io/v1beta1');
    const dev = await edge.waitFor(isRes('default/device/thermo-1', 'insert'), 'device insert');
    const d = deviceOf(dev);
    assert.equal(d.kind, 'Device');
    assert.equal(dev.header.resourceversion, d.metadata?.resourceVersion);
    const props = (d['spec'] as { properties: { name: string; desired?: { value: string } }[] }).properties;
    assert.equal(props.find((p) => p.name === 'setpoint')?.desired?.value, '21', 'desired values travel in the Device');
    const order = edge.received.map((m) => m.route.resource);
    assert.ok(order.indexOf('default/devicemodel/virtual-thermometer') < order.indexOf('default/device/thermo-1'), 'the model comes before its device');
  });

  test("the edge's reported twin and state show in kubectl get device -o yaml (reported, lastOnlineTime, state) and are confirmed", async () => {
    const twinId = edge.reportTwin('thermo-1', { temperature: { value: '21' }, setpoint: { value: '21', expected: '21' } });
    const stateId = edge.reportState('thermo-1', 'online', '2026-12-02 01:00:00');
    const y = (await waitFor(async () => {
      const got = await getDevice();
      return got.status?.lastOnlineTime !== undefined && (got.status.twins?.length ?? 0) === 2 ? got : undefined;
    }, 15_000)) as DeviceYaml;
    const temp = y.status?.twins?.find((t) => t.propertyName === 'temperature');
    assert.equal(temp?.reported?.value, '21');
    assert.equal(temp?.reported?.metadata?.['type'], 'int');
    assert.match(temp?.reported?.metadata?.['timestamp'] ?? '', /^\d+$/);
    assert.equal(y.status?.state, 'online');
    assert.equal(y.status?.lastOnlineTime, '2026-12-02 01:00:00');
    const setpoint = (y.status?.twins ?? []).find((t) => t.propertyName === 'setpoint') as { observedDesired?: { value: string } } | undefined;
    assert.equal(setpoint?.observedDesired?.value, '21');
    await edge.waitFor((m) => m.header.parent_msg_id === twinId && m.route.resource === 'twin' && m.content === 'OK', 'twin report confirmed');
    await edge.waitFor((m) => m.header.parent_msg_id === stateId && m.content === 'OK', 'state report confirmed');
  });

  test('reports that change nothing cause no API writes (resourceVersion stays) and are still confirmed', async () => {
    await sleep(1200); // past the write interval, so a change would be written at once
    const before = (await kube.get<KubeObject>(DEVICE)).metadata?.resourceVersion;
    const writes = stack.dc.stats().writes;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(edge.reportTwin('thermo-1', { temperature: { value: '21' }, setpoint: { value: '21', expected: '21' } }));
      ids.push(edge.reportState('thermo-1', 'online', '2026-12-02 01:00:00'));
    }
    await waitFor(async () => ids.every((id) => edge.acked(id)), 15_000);
    assert.equal((await kube.get<KubeObject>(DEVICE)).metadata?.resourceVersion, before);
    assert.equal(stack.dc.stats().writes, writes);
  });

  test('a burst of changing reports is folded: the last value lands, in far fewer writes than reports', async () => {
    await sleep(1200);
    const writes = stack.dc.stats().writes;
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(edge.reportTwin('thermo-1', { temperature: { value: String(100 + i) } }));
    await waitFor(async () => ((await getDevice()).status?.twins ?? []).find((t) => t.propertyName === 'temperature')?.reported?.value === '129', 15_000);
    await waitFor(async () => ids.every((id) => edge.acked(id)), 15_000);
    const made = stack.dc.stats().writes - writes;
    assert.ok(made >= 1 && made <= 3, `30 reports within one interval make at most 3 writes, made ${made}`);
  });

  test('a desired value changed with kubectl reaches the edge as a device update', async () => {
    await kubectlOk(api, [
      'patch',
      'device',
      'thermo-1',
      '-n',
      'default',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/properties/1/desired/value","value":"24"}]',
    ]);
    const up = await edge.waitFor(
      (m) =>
        isRes('default/device/thermo-1', 'update')(m) &&
        (deviceOf(m)['spec'] as { properties: { desired?: { value: string } }[] }).properties[1]?.desired?.value === '24',
      'device update with desired 24',
    );
    assert.equal(up.route.source, 'devicecontroller');
    const statusOnly = edge.received.filter(isRes('default/device/thermo-1', 'update')).length;
    edge.reportTwin('thermo-1', { temperature: { value: '5' } });
    await waitFor(async () => ((await getDevice()).status?.twins ?? []).find((t) => t.propertyName === 'temperature')?.reported?.value === '5', 15_000);
    await sleep(300);
    assert.equal(edge.received.filter(isRes('default/device/thermo-1', 'update')).length, statusOnly, 'a status write is not sent back to the edge');
  });

  test('a reconnecting edge asks membership/detail and gets the current devices', async () => {
    await edge.close();
    edge = await DeviceEdge.connect(stack.port, pki, 'edge-1');
    const ans = await edge.requestDetail('edge-1');
    assert.equal(ans.header.parent_msg_id, undefined, "not a reply: KubeEdge's DeviceTwin would take it for a confirmation only");
    assert.equal(ans.route.group, 'twin');
    assert.equal(ans.route.source, 'devicecontroller');
    assert.deepEqual((ans.content as { devices: unknown[] }).devices, [{ id: 'thermo-1', name: 'thermo-1' }]);
  });

  test('a desired value changed while the edge is away reaches it after reconnect, and the acked device is kept in an ObjectSync', async () => {
    const syncs = await kubectlOk(api, ['get', 'objectsyncs', '-n', 'default', '-o', 'json']);
    const kinds = (JSON.parse(syncs) as { items: { spec: { objectKind: string; objectName: string } }[] }).items.map(
      (i) => `${i.spec.objectKind}/${i.spec.objectName}`,
    );
    assert.ok(kinds.includes('Device/thermo-1'), `ObjectSyncs: ${kinds.join(', ')}`);
    assert.ok(kinds.includes('DeviceModel/virtual-thermometer'), `ObjectSyncs: ${kinds.join(', ')}`);
    await edge.close();
    await waitFor(async () => !stack.hub.connectedNodes().includes('edge-1'), 15_000);
    await kubectlOk(api, [
      'patch',
      'device',
      'thermo-1',
      '-n',
      'default',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/properties/1/desired/value","value":"19"}]',
    ]);
    await sleep(300);
    edge = await DeviceEdge.connect(stack.port, pki, 'edge-1');
    await edge.waitFor(
      (m) =>
        isRes('default/device/thermo-1', 'update')(m) &&
        (deviceOf(m)['spec'] as { properties: { desired?: { value: string } }[] }).properties[1]?.desired?.value === '19',
      'the missed device update',
    );
  });

  test('a device moved to another node is removed from the old one (with its model) and added to the new one', async () => {
    const other = await DeviceEdge.connect(stack.port, pki, 'edge-2');
    try {
      await kubectlOk(api, ['patch', 'device', 'thermo-1', '-n', 'default', '--type=merge', '-p', '{"spec":{"nodeName":"edge-2"}}']);
      await edge.waitFor(
        (m) => m.route.resource === 'membership' && (m.content as { removed_devices: { id: string }[] }).removed_devices.some((d) => d.id === 'thermo-1'),
        'removed from edge-1',
      );
      await edge.waitFor(isRes('default/device/thermo-1', 'delete'), 'device delete on edge-1');
      await edge.waitFor(isRes('default/devicemodel/virtual-thermometer', 'delete'), 'model delete on edge-1');
      await other.waitFor(
        (m) => m.route.resource === 'membership' && (m.content as { added_devices: { id: string }[] }).added_devices.some((d) => d.id === 'thermo-1'),
        'added on edge-2',
      );
      await other.waitFor(isRes('default/devicemodel/virtual-thermometer', 'insert'), 'model insert on edge-2');
      await other.waitFor(isRes('default/device/thermo-1', 'insert'), 'device insert on edge-2');
      // Back again: the model that edge-1 deleted is inserted there again.
      const seen = edge.received.length;
      await kubectlOk(api, ['patch', 'device', 'thermo-1', '-n', 'default', '--type=merge', '-p', '{"spec":{"nodeName":"edge-1"}}']);
      await edge.waitFor(
        (m) => edge.received.indexOf(m) >= seen && isRes('default/devicemodel/virtual-thermometer', 'insert')(m),
        'model insert on edge-1 again',
      );
      await edge.waitFor((m) => edge.received.indexOf(m) >= seen && isRes('default/device/thermo-1', 'insert')(m), 'device insert on edge-1 again');
    } finally {
      await other.close();
    }
  });

  test('a deleted device is removed from its node: membership, the device and its model', async () => {
    const seen = edge.received.length;
    await kubectlOk(api, ['delete', 'device', 'thermo-1', '-n', 'default']);
    const fresh = (m: Message) => edge.received.indexOf(m) >= seen;
    await edge.waitFor(
      (m) =>
        fresh(m) && m.route.resource === 'membership' && (m.content as { removed_devices: { id: string }[] }).removed_devices.some((d) => d.id === 'thermo-1'),
      'membership removal',
    );
    await edge.waitFor((m) => fresh(m) && isRes('default/device/thermo-1', 'delete')(m), 'device delete');
    await edge.waitFor((m) => fresh(m) && isRes('default/devicemodel/virtual-thermometer', 'delete')(m), 'model delete');
    const ans = await edge.requestDetail('edge-1');
    assert.deepEqual((ans.content as { devices: unknown[] }).devices, []);
  });

  test('a report about a device the node does not have is rejected and counted, and the cloud keeps serving', async () => {
    const rejected = stack.dc.stats().rejected;
    const id = edge.reportTwin('no-such-device', { x: { value: '1' } });
    edge.edge.send({
      header: { msg_id: 'bad-1', timestamp: Date.now() },
      route: { source: 'twin', group: 'resource', operation: 'update', resource: 'device/x/twin/edge_updated' },
      content: 'not json',
    });
    await waitFor(async () => stack.dc.stats().rejected >= rejected + 2, 15_000);
    await waitFor(async () => edge.acked(id), 15_000); // confirmed, so the edge does not resend it for ever
    await edge.requestDetail('edge-1'); // still answering
  });

  test('a device deleted while cloudcore was down is removed from its edge after the restart (from the ObjectSyncs)', async () => {
    await kubectlOk(api, ['apply', '-f', '-'], acceptanceManifest('virtual-thermometer.yaml', 'edge-1'));
    const syncedKinds = async () =>
      (JSON.parse(await kubectlOk(api, ['get', 'objectsyncs', '-n', 'default', '-o', 'json'])) as { items: { spec: { objectKind: string } }[] }).items.map(
        (i) => i.spec.objectKind,
      );
    await waitFor(async () => (await syncedKinds()).includes('Device'), 15_000);
    await edge.close();
    await stack.stop();
    await kubectlOk(api, ['delete', 'device', 'thermo-1', '-n', 'default']);
    stack = await startDeviceStack(api, pki);
    edge = await DeviceEdge.connect(stack.port, pki, 'edge-1');
    await edge.waitFor(
      (m) => m.route.resource === 'membership' && (m.content as { removed_devices: { id: string }[] }).removed_devices.some((d) => d.id === 'thermo-1'),
      'membership removal',
    );
    await edge.waitFor(isRes('default/device/thermo-1', 'delete'), 'device delete');
    await edge.waitFor(isRes('default/devicemodel/virtual-thermometer', 'delete'), 'model delete');
    await waitFor(async () => !(await syncedKinds()).includes('Device'), 15_000); // acked: the record is gone
  });
});
