import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastSeen } from './eventttl.ts';

test('an event last happened at its latest own timestamp, else at its creation', () => {
  const created = { metadata: { creationTimestamp: '2026-01-01T10:00:00Z' } };
  assert.equal(lastSeen({ ...created, firstTimestamp: '2026-01-01T08:00:00Z', lastTimestamp: '2026-01-01T09:00:00Z' }), Date.parse('2026-01-01T09:00:00Z'));
  assert.equal(
    lastSeen({ ...created, eventTime: '2026-01-01T07:00:00.000000Z', series: { lastObservedTime: '2026-01-01T07:30:00.000000Z' } }),
    Date.parse('2026-01-01T07:30:00Z'),
  );
  assert.equal(lastSeen(created), Date.parse('2026-01-01T10:00:00Z'));
  assert.ok(Number.isNaN(lastSeen({})));
});
