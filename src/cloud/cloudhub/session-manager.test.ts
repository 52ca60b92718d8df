import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { keepaliveTickMs, SessionManager } from './session-manager.ts';
import type { NodeConnection } from './ws-server.ts';

/** A connection that only records why it was closed (the real one closes its WebSocket). */
function conn(nodeId: string): NodeConnection & { closedWith: string[] } {
  const closedWith: string[] = [];
  return {
    nodeId,
    projectId: 'p',
    remoteAddress: '127.0.0.1',
    path: '/',
    headers: {},
    send: async () => {},
    close: (reason) => {
      closedWith.push(reason);
    },
    closedWith,
  };
}

const manager = (keepaliveIntervalSec: number, nodeLimit = 10) => new SessionManager({ nodeLimit, keepaliveIntervalSec, log: pino({ level: 'silent' }) });

describe('SessionManager', () => {
  test('the shared ticker closes a silent session and keeps one that sends keepalives', async () => {
    const sm = manager(0.3);
    const silent = conn('silent');
    const chatty = conn('chatty');
    sm.open(silent);
    sm.open(chatty);
    const beat = setInterval(() => sm.keepalive(chatty), 50);
    try {
      await sleep(900);
      assert.deepEqual(silent.closedWith, ['keepalive timeout']);
      assert.deepEqual(chatty.closedWith, []);
      // Closed once, not again on every tick while its socket winds down.
      assert.equal(silent.closedWith.length, 1);
      assert.equal(sm.closed(silent), true);
      assert.deepEqual(sm.nodes(), ['chatty']);
    } finally {
      clearInterval(beat);
      sm.closeAll('test over');
    }
  });

  test('a newer connection replaces the session; the old one closing later changes nothing', () => {
    const sm = manager(30);
    const a = conn('n1');
    const b = conn('n1');
    sm.open(a);
    assert.equal(sm.open(b), a);
    assert.deepEqual(a.closedWith, ['replaced by a newer connection']);
    assert.equal(sm.closed(a), false);
    assert.equal(sm.isCurrent(b), true);
    assert.equal(sm.size, 1);
    sm.closeAll('test over');
    assert.deepEqual(b.closedWith, ['test over']);
    assert.equal(sm.size, 0);
  });

  test('a keepalive on a replaced connection does not keep the new session alive', async () => {
    const sm = manager(0.3);
    const old = conn('n1');
    sm.open(old);
    const current = conn('n1');
    sm.open(current);
    const beat = setInterval(() => sm.keepalive(old), 50);
    try {
      await sleep(900);
      assert.deepEqual(current.closedWith, ['keepalive timeout']);
    } finally {
      clearInterval(beat);
      sm.closeAll('test over');
    }
  });

  test('the node limit admits a known node again but no new one', () => {
    const sm = manager(30, 1);
    sm.open(conn('a'));
    assert.deepEqual(sm.admit('a'), { ok: true });
    assert.equal(sm.admit('b').ok, false);
    sm.closeAll('test over');
  });

  test('tick: an eighth of the interval, at least 50 ms, at most 1 s', () => {
    assert.equal(keepaliveTickMs(30), 1000);
    assert.equal(keepaliveTickMs(4), 500);
    assert.equal(keepaliveTickMs(0.1), 50);
  });
});
