import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { Bus } from '../../../../src/core/bus.ts';
import { describeError, KubeEdgeError } from '../../../../src/core/errors.ts';
import { newMessage } from '../../../../src/core/message.ts';
import { ModuleRuntime } from '../../../../src/core/module.ts';
import { EventBus, type EventBusOptions, type MqttMode } from '../../../../src/edge/eventbus/eventbus.ts';
import { decodeTopic } from '../../../../src/edge/eventbus/topics.ts';
import { quietLog, Recorder, waitFor } from '../../../helpers/cloudhub.ts';
import { freePort, mosquittoAvailable, mosquittoSub, startMosquitto, waitPort } from '../../../helpers/mqtt.ts';
import { skipUnless } from '../../../helpers/tools.ts';

const skip = skipUnless(mosquittoAvailable(), 'mosquitto and mosquitto-clients');
const dir = mkdtempSync(join(tmpdir(), 'eventbus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function options(o: Partial<EventBusOptions> & { mqttMode: MqttMode }): EventBusOptions {
  return {
    nodeName: 'edge-bus',
    dataSource: join(dir, `${Math.random().toString(36).slice(2)}.db`),
    mqttServerInternal: 'tcp://127.0.0.1:1884',
    mqttServerExternal: 'tcp://127.0.0.1:1883',
    mqttQOS: 0,
    mqttRetain: false,
    mqttSessionQueueSize: 100,
    mqttSubClientID: '',
    mqttPubClientID: '',
    mqttUsername: '',
    mqttPassword: '',
    tls: { enable: false, caFile: '', certFile: '', keyFile: '' },
    externalBackoff: { initialMs: 50, maxMs: 300 },
    ...o,
  };
}

async function start(o: EventBusOptions): Promise<{ bus: Bus; eb: EventBus; hub: Recorder; twin: Recorder; rt: ModuleRuntime }> {
  const log = quietLog('eventbus-test');
  const bus = new Bus(log);
  const hub = new Recorder(bus, 'websocket', 'hub');
  const twin = new Recorder(bus, 'twin', 'twin');
  const rt = new ModuleRuntime(bus, log);
  const eb = new EventBus(o);
  rt.add(eb);
  await rt.start();
  return { bus, eb, hub, twin, rt };
}

describe('eventbus with the embedded broker (mqttMode 0)', { skip }, () => {
  test('device topics go to the twin with the topic base64url-encoded; user topics go up to the cloud as upload', async () => {
    const port = await freePort();
    const { eb, hub, twin, rt } = await start(options({ mqttMode: 0, mqttServerInternal: `tcp://127.0.0.1:${port}` }));
    try {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
      await c.publishAsync('$hw/events/device/default/d1/state/update', '{"state":"online"}');
      await c.publishAsync('SYS/dis/upload_records', 'rec');
      await c.publishAsync('app/user/data', 'hello');
      await c.publishAsync('nobody/listens/here', 'x');
      await c.endAsync();
      await waitFor(() => twin.messages.length === 1 && hub.messages.length === 2, 'routed', 5000);
      const t = twin.messages[0];
      assert.equal(decodeTopic(t?.route.resource ?? ''), '$hw/events/device/default/d1/state/update');
      assert.deepEqual([t?.route.source, t?.route.group, t?.route.operation, t?.content], ['bus', 'user', 'response', '{"state":"online"}']);
      assert.deepEqual(
        hub.messages.map((m) => [m.route.resource, m.route.operation, m.route.group, m.content]),
        [
          ['SYS/dis/upload_records', 'upload', 'user', 'rec'],
          ['app/user/data', 'upload', 'user', 'hello'],
        ],
      );
      assert.equal(eb.stats().toCloud, 2);
    } finally {
      await rt.stop();
    }
  });

  test('subscribe from the cloud is kept in sub_topics and survives a restart; publish from the cloud reaches MQTT clients', async () => {
    const port = await freePort();
    const o = options({ mqttMode: 0, mqttServerInternal: `tcp://127.0.0.1:${port}` });
    let s = await start(o);
    s.bus.send('eventbus', newMessage({ source: 'router_eventbus', group: 'user', operation: 'subscribe', resource: 'factory/+/temp', content: null }));
    await waitFor(() => s.eb.stats().rejected === 0, 'subscribed', 1000);
    await s.rt.stop();
    s = await start(o);
    try {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
      await c.publishAsync('factory/line1/temp', '20');
      await waitFor(() => s.hub.messages.some((m) => m.route.resource === 'factory/line1/temp'), 'cloud-subscribed topic forwarded after restart', 5000);
      const sub = await mosquittoSub(port, 'cmd/#', 'cmd/probe');
      s.bus.send('eventbus', newMessage({ source: 'router_eventbus', group: 'user', operation: 'publish', resource: 'cmd/valve', content: 'open' }));
      await waitFor(() => sub.lines.includes('cmd/valve open'), 'published to MQTT', 5000);
      sub.stop();
      await c.endAsync();
    } finally {
      await s.rt.stop();
    }
  });

  test('a taken MQTT port stops start-up with one clear line', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      await assert.rejects(start(options({ mqttMode: 0, mqttServerInternal: `tcp://127.0.0.1:${port}` })), (err: unknown) => {
        assert.ok(err instanceof KubeEdgeError);
        assert.equal(err.code, 'KE_EVENTBUS_LISTEN');
        const line = describeError(err);
        assert.ok(!line.includes('\n'), line);
        assert.match(line, new RegExp(`MQTT port 127\\.0\\.0\\.1:${port} \\(modules\\.eventBus\\.mqttServerInternal\\) is in use by another process`));
        return true;
      });
    } finally {
      blocker.close();
    }
  });
});

describe('eventbus with an external mosquitto (mqttMode 2)', { skip }, () => {
  test('eventBusTLS with a missing CA file stops start-up with one line naming the key; the embedded broker of mode 1 is released', async () => {
    const port = await freePort();
    const missing = join(dir, 'no-such-ca.crt');
    const o = options({
      mqttMode: 1,
      mqttServerInternal: `tcp://127.0.0.1:${port}`,
      tls: { enable: true, caFile: missing, certFile: missing, keyFile: missing },
    });
    await assert.rejects(start(o), (err: unknown) => {
      assert.ok(err instanceof KubeEdgeError);
      assert.equal(err.code, 'KE_EVENTBUS_TLS');
      assert.match(describeError(err), /modules\.eventBus\.eventBusTLS\.tlsMqttCAFile .*no-such-ca\.crt cannot be read/);
      return true;
    });
    const again = await start(options({ mqttMode: 0, mqttServerInternal: `tcp://127.0.0.1:${port}` }));
    await again.rt.stop();
  });

  test('a dead broker does not stop edgecore; EventBus connects once it comes up, and again after it restarts', async () => {
    const port = await freePort();
    const s = await start(options({ mqttMode: 2, mqttServerExternal: `tcp://127.0.0.1:${port}` }));
    try {
      assert.equal(s.eb.externalConnected, false);
      const broker = await startMosquitto(port);
      await waitFor(() => s.eb.externalConnected, 'connected after the broker came up', 15_000);
      await broker.stop();
      await waitFor(() => !s.eb.externalConnected, 'noticed the broker went away', 15_000);
      const again = await startMosquitto(port);
      await waitPort(port);
      await waitFor(() => s.eb.externalConnected, 'reconnected after restart', 15_000);
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
      await c.publishAsync('$hw/events/node/edge-bus/membership/get', '{"event_id":"g1"}');
      await waitFor(() => s.twin.messages.length > 0, 'subscriptions renewed on reconnect', 10_000);
      await c.endAsync();
      await again.stop();
    } finally {
      await s.rt.stop();
    }
  });
});
