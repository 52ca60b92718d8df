import type { Logger } from '../../../core/log.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { nameOf, namespaceOf, resourcePath, uidOf } from './objects.ts';

export type EventType = 'Normal' | 'Warning';

type Seen = { name: string; namespace: string; count: number; at: number };

/** Repeats of the same event within this window raise its count instead of creating another. */
const AGGREGATE_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;

/**
 * Writes core/v1 Events about objects, as Kubernetes' controllers do (`kubectl describe` and `kubectl get events`
 * show them): `component` is the reporter (`deployment-controller`, `default-scheduler`). The same reason and
 * message about the same object is counted on one Event. Failures are logged, never thrown: an event is advice.
 */
export class EventRecorder {
  readonly #kube: KubeRest;
  readonly #component: string;
  readonly #log: Logger;
  readonly #seen = new Map<string, Seen>();

  constructor(kube: KubeRest, component: string, log: Logger) {
    this.#kube = kube;
    this.#component = component;
    this.#log = log;
  }

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    void this.#write(obj, type, reason, message).catch((err: unknown) => this.#log.warn({ err, reason, object: nameOf(obj) }, 'event not recorded'));
  }

  async #write(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = new Date();
    const ts = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const namespace = namespaceOf(obj) || 'default';
    const key = `${uidOf(obj)}|${type}|${reason}|${message}`;
    const seen = this.#seen.get(key);
    if (seen !== undefined && now.getTime() - seen.at < AGGREGATE_MS) {
      seen.count++;
      seen.at = now.getTime();
      try {
        await this.#kube.patch(resourcePath('v1', 'events', seen.namespace, seen.name), { count: seen.count, lastTimestamp: ts }, 'merge');
        return;
      } catch {
        this.#seen.delete(key); // removed meanwhile (event TTL): write a new one
      }
    }
    const name = `${nameOf(obj)}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
    await this.#kube.create(resourcePath('v1', 'events', namespace), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: nameOf(obj),
        ...(namespaceOf(obj) === '' ? {} : { namespace: namespaceOf(obj) }),
        uid: uidOf(obj),
        resourceVersion: obj.metadata?.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.#component },
      reportingComponent: this.#component,
      reportingInstance: this.#component,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    });
    if (this.#seen.size >= MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value ?? '');
    this.#seen.set(key, { name, namespace, count: 1, at: now.getTime() });
  }
}
