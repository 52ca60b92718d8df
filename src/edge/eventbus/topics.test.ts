import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTopic, encodeTopic, isTwinTopic, isValidFilter, isValidTopic, SUBSCRIBED_TOPICS, topicMatches } from './topics.ts';

test('device topics with namespace and name match the twin subscriptions; results do not', () => {
  const any = (t: string) => SUBSCRIBED_TOPICS.some((f) => topicMatches(f, t));
  assert.ok(any('$hw/events/device/default/thermo/twin/update'));
  assert.ok(any('$hw/events/device/default/thermo/twin/get'));
  assert.ok(any('$hw/events/device/default/thermo/state/update'));
  assert.ok(any('$hw/events/node/edge-1/membership/get'));
  assert.ok(any('SYS/dis/upload_records'));
  assert.ok(any('app/user/x/y'));
  assert.ok(!any('$hw/events/device/default/thermo/twin/update/result'), 'our own result must not loop back');
  assert.ok(!any('$hw/events/device/default/thermo/twin/update/delta'));
  assert.ok(any('$hw/events/device/thermo/twin/update'), 'KubeEdge v1.15 bare-name form');
  assert.ok(!any('$hw/events/device/thermo/twin/update/result'));
  assert.ok(!any('$SYS/broker/uptime'));
});

test('MQTT wildcard rules', () => {
  assert.ok(topicMatches('a/#', 'a'));
  assert.ok(topicMatches('a/#', 'a/b/c'));
  assert.ok(topicMatches('a/+/c', 'a/b/c'));
  assert.ok(!topicMatches('a/+/c', 'a/b/d'));
  assert.ok(!topicMatches('a/+', 'a/b/c'));
  assert.ok(!topicMatches('+/user/#', '$x/user/y'), '$ topics are not matched by a leading wildcard');
  assert.ok(isValidFilter('a/+/#'));
  assert.ok(!isValidFilter('a/b#'));
  assert.ok(!isValidFilter('a/#/b'));
  assert.ok(!isValidTopic('a/+'));
  assert.ok(isTwinTopic('$hw/events/node/n/membership/get'));
  assert.ok(!isTwinTopic('SYS/dis/upload_records'));
});

test('topics travel base64url-encoded with padding, as Go URLEncoding writes them', () => {
  const t = '$hw/events/device/default/thermo/twin/update';
  const enc = encodeTopic(t);
  assert.equal(enc, Buffer.from(t).toString('base64').replaceAll('+', '-').replaceAll('/', '_'));
  assert.equal(decodeTopic(enc), t);
  assert.equal(decodeTopic('not base64!'), undefined);
});
