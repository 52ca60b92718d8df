import net from 'node:net';
import { checkPort } from './network.ts';
import { fail, ok, warn, type CheckResult } from './types.ts';

type EventBusConfig = { enable: boolean; mqttMode: number; mqttServerInternal: string; mqttServerExternal: string };

function hostPort(url: string, fallbackPort: number): { host: string; port: number } | undefined {
  try {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: u.port === '' ? fallbackPort : Number(u.port) };
  } catch {
    return undefined;
  }
}

function answers(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('timeout', () => done(false));
    s.once('error', () => done(false));
  });
}

/**
 * keadm doctor: the embedded broker's port must be free (mqttMode 0, 1) and the external broker should answer
 * (mqttMode 1, 2). An external broker that is down is a warning: EventBus keeps reconnecting and edgecore runs.
 */
export async function checkEventBus(eb: EventBusConfig, ours?: ReadonlySet<number>): Promise<CheckResult[]> {
  if (!eb.enable) return [];
  const out: CheckResult[] = [];
  if (eb.mqttMode <= 1) {
    const a = hostPort(eb.mqttServerInternal, 1883);
    if (a === undefined)
      out.push(fail('mqtt broker', `modules.eventBus.mqttServerInternal ${eb.mqttServerInternal} is not a URL`, 'write it as tcp://127.0.0.1:1884'));
    else out.push(await checkPort(a.port, 'modules.eventBus.mqttServerInternal', ours));
  }
  if (eb.mqttMode >= 1) {
    const a = hostPort(eb.mqttServerExternal, 1883);
    if (a === undefined)
      out.push(fail('mqtt broker', `modules.eventBus.mqttServerExternal ${eb.mqttServerExternal} is not a URL`, 'write it as tcp://127.0.0.1:1883'));
    else if (await answers(a.host, a.port)) out.push(ok('mqtt broker', `external broker ${eb.mqttServerExternal} answers`));
    else
      out.push(
        warn(
          'mqtt broker',
          `external broker ${eb.mqttServerExternal} (modules.eventBus.mqttServerExternal) does not answer; EventBus keeps reconnecting`,
          'start a broker there (apt-get install mosquitto) or set modules.eventBus.mqttMode: 0 for the embedded one',
        ),
      );
  }
  return out;
}
