import type { Api } from '../../bench/lib/api.ts';
import { sleep } from './sh.ts';

export const NS = 'chaos';

export type PodPlan = { name: string; node: string; real: boolean; cm: string };

/**
 * API calls that outlive a restart of the API server: a network error, 5xx or 429 is tried again (counted) until
 * `deadlineMs`. A create answered 409 counts as done (the first try got through before the server went away).
 */
export class Client {
  readonly api: Api;
  retries = 0;

  constructor(api: Api) {
    this.api = api;
  }

  async call<T = unknown>(method: string, path: string, body?: unknown, deadlineMs = 120_000, contentType?: string): Promise<{ status: number; body: T }> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      try {
        const r = await this.api.request<T>(method, path, body, contentType, 15_000);
        if (r.status < 500 && r.status !== 429) return r;
      } catch {
        /* the server is down right now */
      }
      if (Date.now() > end) throw new Error(`${method} ${path}: no answer within ${deadlineMs} ms`);
      this.retries++;
      await sleep(300);
    }
  }

  async create(path: string, obj: unknown): Promise<void> {
    const r = await this.call('POST', path, obj);
    if (r.status !== 201 && r.status !== 200 && r.status !== 409) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  }
}

export function podObject(p: PodPlan, image: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: NS, labels: { app: 'chaos', edge: p.real ? 'real' : 'sim' } },
    spec: {
      nodeName: p.node,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'c',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '1000000'],
          volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
        },
      ],
      volumes: [{ name: 'cfg', configMap: { name: p.cm } }],
    },
  };
}

export function configMapObject(name: string, v: number): unknown {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { v: String(v) } };
}
