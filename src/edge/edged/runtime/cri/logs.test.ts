import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { parseCriLogLine, readCriLog } from './logs.ts';

const LOG = [
  '2026-01-01T00:00:01.000000001Z stdout F one',
  '2026-01-01T00:00:02.000000001Z stderr F two',
  '2026-01-01T00:00:03.000000001Z stdout P thr',
  '2026-01-01T00:00:03.500000001Z stdout F ee',
  'not a record',
  '2026-01-01T00:00:04.000000001Z stdout F four',
  '',
].join('\n');

async function read(file: string, o: Partial<Parameters<typeof readCriLog>[2]> = {}): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  await readCriLog(file, out, { timestamps: false, follow: false, running: async () => false, signal: new AbortController().signal, ...o });
  return text;
}

test('CRI log records: stream, partial flag and message; junk is not a record', () => {
  assert.deepEqual(parseCriLogLine(Buffer.from('2026-01-01T00:00:03Z stdout P thr')), {
    time: '2026-01-01T00:00:03Z',
    stream: 'stdout',
    partial: true,
    message: Buffer.from('thr'),
  });
  assert.equal(parseCriLogLine(Buffer.from('not a record')), undefined);
});

test('CRI log file: whole, tail (a partial record joins its line), since, timestamps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ke-crilog-'));
  try {
    const file = join(dir, '0.log');
    writeFileSync(file, LOG);
    assert.equal(await read(file), 'one\ntwo\nthree\nfour\n');
    assert.equal(await read(file, { tailLines: 2 }), 'three\nfour\n');
    assert.equal(await read(file, { tailLines: 0 }), '');
    assert.equal(await read(file, { since: new Date('2026-01-01T00:00:02.5Z') }), 'three\nfour\n');
    assert.equal(await read(file, { tailLines: 1, timestamps: true }), '2026-01-01T00:00:04.000000001Z four\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('following a CRI log: appended records arrive, and it ends once the container stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ke-crilog-'));
  try {
    const file = join(dir, '0.log');
    writeFileSync(file, '2026-01-01T00:00:01Z stdout F first\n');
    let running = true;
    const out = new PassThrough();
    let text = '';
    const seen = new Promise<void>((resolve) =>
      out.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('second')) resolve();
      }),
    );
    const done = readCriLog(file, out, { timestamps: false, follow: true, running: async () => running, signal: new AbortController().signal, pollMs: 20 });
    appendFileSync(file, '2026-01-01T00:00:02Z stdout F second\n');
    await seen;
    running = false;
    await done;
    assert.equal(text, 'first\nsecond\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
