// MQTT test kit: a private mosquitto per test on a free loopback port, and mosquitto_sub as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindablePort } from './tools.ts';

export function mosquittoAvailable(): boolean {
  return spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).error === undefined && spawnSync('mosquitto_sub', ['--help']).error === undefined;
}

export async function freePort(): Promise<number> {
  const p = await bindablePort(0);
  if (p === undefined) throw new Error('no free port');
  return p;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function waitPort(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await portOpen(port))) {
    if (Date.now() > end) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type Mosquitto = { port: number; stop(): Promise<void> };

/** A mosquitto of its own (temp config, no persistence), never the system service. */
export async function startMosquitto(port?: number): Promise<Mosquitto> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${p} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitPort(p);
  return {
    port: p,
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Sub = { lines: string[]; child: ChildProcess; stop(): void };

/** `mosquitto_sub -v -t <filter>`: each line is `<topic> <payload>`; `probe` is a topic the filter matches. */
export async function mosquittoSub(port: number, filter: string, probe: string): Promise<Sub> {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-v', '-t', filter], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  // mosquitto_sub has no "subscribed" signal: publish a probe on a matching topic until it shows up
  const end = Date.now() + 10_000;
  while (!lines.some((l) => l.startsWith(`${probe} `))) {
    if (Date.now() > end) throw new Error(`mosquitto_sub on ${filter} never saw its probe`);
    // not spawnSync: the broker may live in this very process (the embedded one) and must keep running
    await mosquittoPub(port, probe, 'probe');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { lines, child, stop: () => child.kill('SIGTERM') };
}

export function mosquittoPub(port: number, topic: string, message: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-m', message], { stdio: 'ignore' });
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
}
