import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChange, mergeChange, type DeviceStatus } from './status.ts';

const v = (value: string, ts: string, type = 'int') => ({ value, metadata: { timestamp: ts, type } });

test('a new reading is written; the same reading with a newer timestamp is not, and keeps the first timestamp', () => {
  const first = applyChange(undefined, { twins: { temperature: { reported: v('21', '1') } } });
  assert.equal(first.urgency, 'now');
  assert.deepEqual(first.status.twins, [{ propertyName: 'temperature', reported: v('21', '1') }]);
  const again = applyChange(first.status, { twins: { temperature: { reported: v('21', '2') } } });
  assert.equal(again.urgency, 'none');
  assert.deepEqual(again.status.twins?.[0]?.reported, v('21', '1'));
  const changed = applyChange(first.status, { twins: { temperature: { reported: v('22', '3') } } });
  assert.equal(changed.urgency, 'now');
  assert.deepEqual(changed.status.twins?.[0]?.reported, v('22', '3'));
});

test('observedDesired, state and the first lastOnlineTime are news; a later lastOnlineTime alone only a lazy refresh', () => {
  const base: DeviceStatus = { twins: [{ propertyName: 'setpoint', reported: v('20', '1') }], state: 'online', lastOnlineTime: '2026-12-02 00:00:00' };
  assert.equal(applyChange(base, { twins: { setpoint: { observedDesired: v('21', '5') } } }).urgency, 'now');
  assert.equal(applyChange(base, { twins: {}, state: 'offline' }).urgency, 'now');
  assert.equal(applyChange(base, { twins: {}, state: 'online', lastOnlineTime: '2026-12-02 00:00:05' }).urgency, 'lazy');
  assert.equal(applyChange({ twins: [] }, { twins: {}, state: 'online', lastOnlineTime: '2026-12-02 00:00:05' }).urgency, 'now');
  assert.equal(applyChange(base, { twins: {}, state: 'online', lastOnlineTime: '2026-12-02 00:00:00' }).urgency, 'none');
});

test('twins already in the status that the report does not name are kept; a type change is a change', () => {
  const base: DeviceStatus = {
    twins: [
      { propertyName: 'a', reported: v('1', '1') },
      { propertyName: 'b', reported: v('2', '1') },
    ],
  };
  const r = applyChange(base, { twins: { b: { reported: v('2', '9', 'string') } } });
  assert.equal(r.urgency, 'now');
  assert.deepEqual(
    r.status.twins?.map((t) => [t.propertyName, t.reported?.metadata['type']]),
    [
      ['a', 'int'],
      ['b', 'string'],
    ],
  );
});

test('folding reports: the later value of each field wins, other fields stay', () => {
  const acc = { twins: { t: { reported: v('1', '1'), observedDesired: v('5', '1') } }, state: 'online' };
  mergeChange(acc, { twins: { t: { reported: v('2', '2') }, u: { reported: v('9', '2') } }, lastOnlineTime: 'x' });
  assert.deepEqual(acc, {
    twins: { t: { reported: v('2', '2'), observedDesired: v('5', '1') }, u: { reported: v('9', '2') } },
    state: 'online',
    lastOnlineTime: 'x',
  });
});
