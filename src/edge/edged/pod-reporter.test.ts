import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logger } from '../../core/log.ts';
import type { Message } from '../../core/message.ts';
import type { MetaClient } from './metaclient.ts';
import { PodReporter } from './pod-reporter.ts';
import type { Pod, PodStatus } from './pods/index.ts';

type Sent = { resource: string; phase: string | undefined };

/** A metamanager stand-in whose replies the test releases by hand, to see what is in flight at once. */
function fakeMeta() {
  const sent: Sent[] = [];
  const waiting: Array<() => void> = [];
  const meta = {
    request(_op: string, resource: string, content: unknown): Promise<Message> {
      const phase = typeof content === 'string' ? (JSON.parse(content) as { status?: { phase?: string } }).status?.phase : undefined;
      sent.push({ resource, phase });
      return new Promise((resolve) => waiting.push(() => resolve({} as Message)));
    },
  } as unknown as MetaClient;
  const releaseAll = async (): Promise<void> => {
    for (const r of waiting.splice(0)) r();
    await new Promise((r) => setImmediate(r));
  };
  return { meta, sent, waiting, releaseAll };
}

const pod = (name: string): Pod => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}` }, spec: { containers: [] } }) as unknown as Pod;
const status = (phase: string): PodStatus => ({ phase }) as PodStatus;
const tick = () => new Promise((r) => setImmediate(r));

test('reports of different pods are sent at once, not one after the other', async () => {
  const f = fakeMeta();
  const r = new PodReporter(f.meta, logger('test'), 60_000);
  for (let i = 0; i < 5; i++) r.status(pod(`p${i}`), status('Running'));
  await tick();
  // None answered yet, and all five are already out.
  assert.equal(f.waiting.length, 5);
  await f.releaseAll();
  r.stop();
});

test('a newer report of a pod goes out once its earlier one is answered, not on the retry timer', async () => {
  const f = fakeMeta();
  const r = new PodReporter(f.meta, logger('test'), 60_000);
  r.status(pod('a'), status('Pending'));
  await tick();
  assert.equal(f.sent.length, 1);
  r.status(pod('a'), status('Running'));
  await tick();
  // One send per pod in flight: the newer report waits for the older one's answer, so they stay in order.
  assert.equal(f.sent.length, 1);
  await f.releaseAll();
  await tick();
  assert.deepEqual(
    f.sent.map((s) => s.phase),
    ['Pending', 'Running'],
  );
  await f.releaseAll();
  r.stop();
});
