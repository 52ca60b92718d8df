import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAny, decodeCustomized, encodeAny, encodeCustomized } from './codec.ts';

test('configData values are packed as the protobuf wrappers KubeEdge uses', () => {
  assert.equal(encodeAny('127.0.0.1').type_url, 'type.googleapis.com/google.protobuf.StringValue');
  assert.equal(encodeAny(true).type_url, 'type.googleapis.com/google.protobuf.BoolValue');
  assert.equal(encodeAny(15020).type_url, 'type.googleapis.com/google.protobuf.Int32Value');
  assert.equal(encodeAny(2 ** 40).type_url, 'type.googleapis.com/google.protobuf.Int64Value');
  assert.equal(encodeAny(0.1).type_url, 'type.googleapis.com/google.protobuf.FloatValue');
  // StringValue "ab": field 1, length 2
  assert.deepEqual([...encodeAny('ab').value], [0x0a, 2, 0x61, 0x62]);
});

test('values come back as they went in; a 32-bit float as its shortest decimal', () => {
  const data = { ip: '127.0.0.1', port: 15020, slaveID: 1, scale: 0.1, isSwap: false, big: 2 ** 40, neg: -3 };
  assert.deepEqual(decodeCustomized(encodeCustomized(data)), data);
});

test('a value no wrapper carries is refused with a typed error', () => {
  assert.throws(() => encodeAny({ nested: 1 }), { code: 'KE_DMI_VALUE_UNSUPPORTED' });
  assert.throws(() => encodeAny([1]), { code: 'KE_DMI_VALUE_UNSUPPORTED' });
  assert.throws(() => decodeAny({ type_url: 'type.googleapis.com/some.Other', value: new Uint8Array() }), { code: 'KE_DMI_VALUE_UNSUPPORTED' });
});

test('a missing configData stays missing', () => {
  assert.equal(encodeCustomized(undefined), null);
  assert.deepEqual(decodeCustomized(null), {});
});
