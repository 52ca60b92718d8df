import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Bus } from '../../core/bus.ts';
import { newErrorResponse, newResponse, type Message } from '../../core/message.ts';
import { edgeRegistry } from '../../metrics/edge.ts';
import { EdgeGroups, EdgeModules } from '../common/modules.ts';
import { MetaClient } from './metaclient.ts';
import { PodReporter } from './pod-reporter.ts';
import type { Pod, PodStatus } from './pods/index.ts';

type Answer = 'offline' | { content: unknown };

/** What MetaManager hands back to edged, answer by answer: the cloud's reply, or "cloud not connected". */
function harness(answers: Answer[], o: { retryBaseMs?: number; retryMaxMs?: number } = { retryBaseMs: 20, retryMaxMs: 80 }) {
  const lines: Array<{ level: number; msg: string; pod?: string; err?: { message?: string } }> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk)
        .split('\n')
        .filter((x) => x !== ''))
        lines.push(JSON.parse(l));
      cb();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const bus = new Bus(pino({ level: 'silent' }));
  const sent: Message[] = [];
  bus.register(EdgeModules.metaManager, EdgeGroups.meta, (m) => {
    sent.push(m);
    const a = answers.shift() ?? { content: { Object: { metadata: { name: 'p' } }, Err: null } };
    bus.respond(a === 'offline' ? newErrorResponse(m, 'cloud not connected', EdgeModules.metaManager) : newResponse(m, a.content));
  });
  const reporter = new PodReporter(new MetaClient(bus, 1000), log, o);
  return {
    reporter,
    sent,
    lines,
    close: () => {
      reporter.stop();
      bus.close();
    },
  };
}

const pod: Pod = { metadata: { name: 'web', namespace: 'ns1', uid: 'u-1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as Pod;
const running = { phase: 'Running' } as PodStatus;
const apiDown = { Object: null, Err: { ErrStatus: { status: 'Failure', message: 'connect ECONNREFUSED 127.0.0.1:6443', reason: 'InternalError', code: 500 } } };

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function counter(kind: string, outcome: string): Promise<number> {
  const m = await edgeRegistry.getSingleMetricAsString('kubeedge_edged_pod_reports_total');
  const line = m.split('\n').find((l) => l.includes(`kind="${kind}"`) && l.includes(`outcome="${outcome}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('PodReporter', () => {
  it('sends a status the cloud refused (API server down) again until it is accepted, and says so at warn', async () => {
    const h = harness([{ content: apiDown }, { content: apiDown }]);
    const failedBefore = await counter('status', 'failed');
    try {
      h.reporter.status(pod, running);
      await until(() => h.sent.length >= 3 && h.reporter.pendingCount === 0);
      assert.equal(h.sent.length, 3, 'two refusals, then the accepted one');
      const patch = JSON.parse(String(h.sent[2]?.content)) as { metadata: { uid: string }; status: PodStatus };
      assert.deepEqual(patch, { metadata: { uid: 'u-1' }, status: running });
      const warns = h.lines.filter((l) => l.level === 40 && l.msg.includes('will retry'));
      assert.equal(warns.length, 2);
      assert.equal(warns[0]?.pod, 'ns1/web');
      assert.match(warns[0]?.err?.message ?? '', /ECONNREFUSED/);
      assert.equal((await counter('status', 'failed')) - failedBefore, 2);
    } finally {
      h.close();
    }
  });

  it('drops a report the pod can never take (gone from the API) instead of retrying it', async () => {
    const gone = { Object: null, Err: { ErrStatus: { status: 'Failure', message: 'pods "web" not found', reason: 'NotFound', code: 404 } } };
    const h = harness([{ content: gone }]);
    try {
      h.reporter.status(pod, running);
      await until(() => h.reporter.pendingCount === 0);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(h.sent.length, 1);
      assert.ok(h.lines.some((l) => l.level === 40 && l.msg.includes('dropped')));
    } finally {
      h.close();
    }
  });

  it('keeps a report made offline and sends it as soon as the link is back, not after its backoff', async () => {
    const h = harness(['offline'], { retryBaseMs: 60_000, retryMaxMs: 60_000 });
    try {
      h.reporter.deleted(pod);
      await until(() => h.sent.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(h.reporter.pendingCount, 1, 'kept while offline');
      h.reporter.cloudConnected();
      await until(() => h.reporter.pendingCount === 0, 1000);
      assert.equal(h.sent.length, 2);
      assert.deepEqual(h.sent[1]?.content, { gracePeriodSeconds: 0, preconditions: { uid: 'u-1' } });
      assert.ok(
        h.lines.every((l) => l.level < 40),
        'waiting for the link is no refusal: nothing at warn',
      );
    } finally {
      h.close();
    }
  });
});
