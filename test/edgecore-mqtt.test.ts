import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runBin } from './helpers/daemon.ts';
import { freePort } from './helpers/mqtt.ts';

test('edgecore with a taken MQTT port (mqttMode 0) stops at start with one clear line', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgecore-mqtt-'));
  const port = await freePort();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
  try {
    const cfg = path.join(dir, 'edgecore.yaml');
    writeFileSync(
      cfg,
      [
        'apiVersion: edgecore.config.kubeedge.io/v1alpha2',
        'kind: EdgeCore',
        'database:',
        `  dataSource: ${path.join(dir, 'edgecore.db')}`,
        'modules:',
        '  edged:',
        '    enable: false',
        '    hostnameOverride: mqtt-port-test',
        '  edgeHub:',
        '    enable: false',
        '  eventBus:',
        '    mqttMode: 0',
        `    mqttServerInternal: tcp://127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    const r = await runBin('edgecore', ['--config', cfg], { CHECK_EDGECORE_ENVIRONMENT: 'false', LOG_LEVEL: 'silent' });
    assert.equal(r.code, 1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('edgecore: '));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0] ?? '',
      new RegExp(`^edgecore: MQTT port 127\\.0\\.0\\.1:${port} \\(modules\\.eventBus\\.mqttServerInternal\\) is in use by another process`),
    );
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
