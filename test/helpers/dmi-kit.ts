/**
 * Kits for the device tests: a stand-in for DeviceTwin on edgecore's bus (what contract B asks of it, for tests
 * of the DMI module alone), and v1beta1 Device/DeviceModel objects read from the shared acceptance manifests.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { Bus } from '../../src/core/bus.ts';
import { contentAsObject, newMessage, newResponse, type Message } from '../../src/core/message.ts';

export type DeviceEntry = { device: Record<string, unknown>; model: Record<string, unknown> | null };

export const ACCEPTANCE_DIR = new URL('../../../shared/acceptance/devices/', import.meta.url);

/** The Device and DeviceModel of one acceptance manifest, with EDGE_NODE replaced. */
export function acceptanceObjects(file: string, nodeName: string): DeviceEntry {
  const text = readFileSync(new URL(file, ACCEPTANCE_DIR), 'utf8').replaceAll('EDGE_NODE', nodeName);
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
  const device = docs.find((d) => d['kind'] === 'Device');
  const model = docs.find((d) => d['kind'] === 'DeviceModel') ?? null;
  if (device === undefined) throw new Error(`${file} has no Device`);
  return { device, model };
}

/** Sets a property's desired value in a Device object (what DeviceTwin hands over after a desired change). */
export function withDesired(e: DeviceEntry, property: string, value: string): DeviceEntry {
  const d = structuredClone(e.device) as { spec: { properties: Array<{ name: string; desired?: { value: string } }> } };
  for (const p of d.spec.properties) if (p.name === property) p.desired = { value };
  return { device: d as unknown as Record<string, unknown>, model: e.model };
}

/** The stand-in DeviceTwin: answers `dmi/devices`, records what DMI sends, sends insert/update/delete to DMI. */
export class TwinStandIn {
  readonly received: Message[] = [];
  readonly devices = new Map<string, DeviceEntry>();
  readonly #bus: Bus;

  constructor(bus: Bus) {
    this.#bus = bus;
    bus.register('twin', 'twin', (m) => {
      if (m.route.operation === 'query' && m.route.resource === 'dmi/devices') {
        this.#bus.respond(newResponse(m, { items: [...this.devices.values()] }, { source: 'twin', group: 'dmi' }));
        return;
      }
      this.received.push(m);
    });
  }

  send(operation: 'insert' | 'update' | 'delete', e: DeviceEntry): void {
    const md = e.device['metadata'] as { namespace?: string; name: string };
    const key = `${md.namespace ?? 'default'}/${md.name}`;
    if (operation === 'delete') this.devices.delete(key);
    else this.devices.set(key, e);
    this.#bus.send(
      'dmi',
      newMessage({
        source: 'twin',
        group: 'dmi',
        operation,
        resource: `device/${key}`,
        content: operation === 'delete' ? { device: { metadata: md } } : e,
      }),
    );
  }

  /** The reported values DMI sent for a device property, newest last. */
  reported(namespace: string, name: string, property: string): string[] {
    const topic = `$hw/events/device/${namespace}/${name}/twin/update`;
    const out: string[] = [];
    for (const m of this.received) {
      if (m.route.resource !== topic || m.route.source !== 'dmi') continue;
      const body = contentAsObject(m) as { twin?: Record<string, { actual?: { value?: string } }> };
      const v = body.twin?.[property]?.actual?.value;
      if (v !== undefined) out.push(v);
    }
    return out;
  }
}
