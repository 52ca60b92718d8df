import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Logger } from '../../../core/log.ts';
import type { ContainerRuntime } from '../runtime/types.ts';
import type { Container, Probe } from './types.ts';

export type ProbeKind = 'liveness' | 'readiness';

export type ProbeTarget = {
  runtime: ContainerRuntime;
  containerId: string;
  container: Container;
  podIP: () => string;
};

function resolvePort(port: number | string, c: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = c.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`port ${port} is not a named port of container ${c.name}`);
  return named.containerPort;
}

/** One probe attempt; resolves true on success. Errors and timeouts are failures, never exceptions. */
export async function runProbe(probe: Probe, t: ProbeTarget): Promise<{ ok: boolean; message: string }> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) {
      const r = await t.runtime.exec(t.containerId, probe.exec.command, timeoutMs);
      return { ok: r.exitCode === 0, message: `exit code ${r.exitCode}: ${(r.stdout + r.stderr).trim().slice(0, 200)}` };
    }
    if (probe.httpGet) {
      const g = probe.httpGet;
      const host = g.host ?? t.podIP();
      const port = resolvePort(g.port, t.container);
      const mod = g.scheme === 'HTTPS' ? https : http;
      const status = await new Promise<number>((resolve, reject) => {
        const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.29' };
        for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
        const req = mod.get({ host, port, path: g.path ?? '/', headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
        req.on('error', reject);
      });
      return { ok: status >= 200 && status < 400, message: `HTTP probe failed with statuscode: ${status}` };
    }
    if (probe.tcpSocket) {
      const host = probe.tcpSocket.host ?? t.podIP();
      const port = resolvePort(probe.tcpSocket.port, t.container);
      await new Promise<void>((resolve, reject) => {
        const s = net.connect({ host, port, timeout: timeoutMs }, () => {
          s.destroy();
          resolve();
        });
        s.on('timeout', () => {
          s.destroy();
          reject(new Error(`dial tcp ${host}:${port}: i/o timeout`));
        });
        s.on('error', reject);
      });
      return { ok: true, message: '' };
    }
    return { ok: true, message: 'probe has no handler' };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Probes one container instance periodically and reports threshold crossings. Liveness starts healthy and
 * readiness starts unready, as in kubelet.
 */
export class ProbeWorker {
  readonly kind: ProbeKind;
  result: boolean;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #successes = 0;
  #failures = 0;
  readonly #probe: Probe;
  readonly #target: ProbeTarget;
  readonly #onChange: (kind: ProbeKind, ok: boolean, message: string) => void;
  readonly #log: Logger;

  constructor(kind: ProbeKind, probe: Probe, target: ProbeTarget, onChange: (kind: ProbeKind, ok: boolean, message: string) => void, log: Logger) {
    this.kind = kind;
    this.#probe = probe;
    this.#target = target;
    this.#onChange = onChange;
    this.#log = log;
    this.result = kind === 'liveness';
  }

  start(): void {
    this.#schedule(Math.max(0, this.#probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.#tick();
    }, ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const { ok, message } = await runProbe(this.#probe, this.#target);
    if (this.#stopped) return;
    if (ok) {
      this.#successes++;
      this.#failures = 0;
    } else {
      this.#failures++;
      this.#successes = 0;
    }
    const successThreshold = Math.max(1, this.#probe.successThreshold ?? 1);
    const failureThreshold = Math.max(1, this.#probe.failureThreshold ?? 3);
    if (!this.result && ok && this.#successes >= successThreshold) {
      this.result = true;
      this.#onChange(this.kind, true, message);
    } else if (this.result && !ok && this.#failures >= failureThreshold) {
      this.result = false;
      this.#log.info({ container: this.#target.container.name, kind: this.kind, message }, 'probe failed');
      this.#onChange(this.kind, false, message);
    }
    this.#schedule(Math.max(1, this.#probe.periodSeconds ?? 10) * 1000);
  }
}
