import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { checkEventBus } from '../../../../src/edge/checks/index.ts';
import { freePort } from '../../../helpers/mqtt.ts';

test('doctor: a taken embedded-broker port fails, a silent external broker warns, a listening one is ok', async () => {
  const srv = createServer();
  const port = await freePort();
  await new Promise<void>((r) => srv.listen(port, '0.0.0.0', () => r()));
  const dead = await freePort();
  try {
    const both = await checkEventBus({
      enable: true,
      mqttMode: 1,
      mqttServerInternal: `tcp://127.0.0.1:${port}`,
      mqttServerExternal: `tcp://127.0.0.1:${dead}`,
    });
    assert.deepEqual(
      both.map((r) => r.status),
      ['fail', 'warn'],
    );
    assert.match(both[0]?.detail ?? '', new RegExp(`${port} \\(modules.eventBus.mqttServerInternal\\) is in use`));
    assert.match(both[1]?.detail ?? '', /does not answer; EventBus keeps reconnecting/);
    const ext = await checkEventBus({ enable: true, mqttMode: 2, mqttServerInternal: 'tcp://127.0.0.1:1884', mqttServerExternal: `tcp://127.0.0.1:${port}` });
    assert.deepEqual(
      ext.map((r) => r.status),
      ['ok'],
    );
    assert.deepEqual(await checkEventBus({ enable: false, mqttMode: 0, mqttServerInternal: `tcp://127.0.0.1:${port}`, mqttServerExternal: '' }), []);
  } finally {
    srv.close();
  }
});
