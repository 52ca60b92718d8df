/**
 * EventBus's topic facts (KubeEdge `edge/pkg/eventbus/mqtt/client.go` and `handler.go`, with the device topics
 * carrying `<namespace>/<name>` as KubeEdge does since devices became namespaced).
 */

/** Records uploaded by devices, forwarded to the cloud as is. */
export const UPLOAD_TOPIC = 'SYS/dis/upload_records';

/** What EventBus always listens to, on the embedded broker and on the external one. */
export const SUBSCRIBED_TOPICS: readonly string[] = [
  '$hw/events/upload/#',
  '$hw/events/device/+/+/state/update',
  '$hw/events/device/+/+/twin/+',
  // KubeEdge v1.15's bare-name forms, for clients written against it
  '$hw/events/device/+/state/update',
  '$hw/events/device/+/twin/+',
  '$hw/events/node/+/membership/get',
  UPLOAD_TOPIC,
  '+/user/#',
];

/** Topics under these prefixes belong to DeviceTwin; everything else goes up to the cloud. */
const TWIN_PREFIXES = ['$hw/events/device/', '$hw/events/node/'] as const;

export function isTwinTopic(topic: string): boolean {
  return TWIN_PREFIXES.some((p) => topic.startsWith(p));
}

/** MQTT filter matching (`+` one level, `#` the rest); `$` topics match no filter that starts with a wildcard. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return true;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A filter an MQTT client could subscribe to: non-empty, no NUL, wildcards only as whole levels, `#` last. */
export function isValidFilter(filter: string): boolean {
  if (filter === '' || filter.length > 65_535 || filter.includes('\u0000')) return false;
  const parts = filter.split('/');
  return parts.every((p, i) => (p.includes('+') ? p === '+' : true) && (p.includes('#') ? p === '#' && i === parts.length - 1 : true));
}

/** A topic one may publish to: non-empty, no wildcards, no NUL. */
export function isValidTopic(topic: string): boolean {
  return topic !== '' && topic.length <= 65_535 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}

/** KubeEdge hands twin topics over base64url-encoded (padded, Go's URLEncoding) in `route.resource`. */
export function encodeTopic(topic: string): string {
  return Buffer.from(topic, 'utf8')
    .toString('base64url')
    .padEnd(Math.ceil(Buffer.byteLength(topic) / 3) * 4, '=');
}

export function decodeTopic(resource: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(resource)) return undefined;
  return Buffer.from(resource, 'base64url').toString('utf8');
}
