import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@grpc/grpc-js';
import type { Logger } from '../../core/log.ts';
import { loadGrpc } from './api/lazy.ts';

export type MapperEntry = { name: string; protocol: string; address: string; version: string; apiVersion: string };

/**
 * The mappers that registered, by protocol (one mapper serves one protocol, as in KubeEdge). Kept in a file
 * beside the DMI socket so that after an edgecore restart the devices DeviceTwin hands over again reach the
 * mappers that are still running, without waiting for them to register again.
 */
export class MapperRegistry {
  readonly #file: string;
  readonly #log: Logger;
  readonly #entries = new Map<string, MapperEntry>();
  readonly #clients = new Map<string, Client>();

  constructor(file: string, log: Logger) {
    this.#file = file;
    this.#log = log;
  }

  load(): void {
    try {
      const list = JSON.parse(readFileSync(this.#file, 'utf8')) as unknown;
      if (!Array.isArray(list)) return;
      for (const e of list as MapperEntry[]) {
        if (typeof e?.protocol === 'string' && typeof e.address === 'string') this.#entries.set(e.protocol, e);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.warn({ err, file: this.#file }, 'mapper registry file unreadable; starting empty');
    }
  }

  set(e: MapperEntry): void {
    const old = this.#entries.get(e.protocol);
    if (old?.address !== e.address) this.#dropClient(e.protocol);
    this.#entries.set(e.protocol, e);
    this.#save();
  }

  get(protocol: string): MapperEntry | undefined {
    return this.#entries.get(protocol);
  }

  /** The protocol of the mapper at an address, if one registered there. */
  protocolAt(address: string): string | undefined {
    for (const e of this.#entries.values()) if (e.address === address) return e.protocol;
    return undefined;
  }

  list(): MapperEntry[] {
    return [...this.#entries.values()];
  }

  async client(protocol: string): Promise<Client | undefined> {
    if (!this.#entries.has(protocol)) return undefined;
    const cached = this.#clients.get(protocol);
    if (cached !== undefined) return cached;
    const { api } = await loadGrpc();
    // read again after the await: the mapper may have moved or another call made the client meanwhile
    const e = this.#entries.get(protocol);
    if (e === undefined) return undefined;
    let c = this.#clients.get(protocol);
    if (c === undefined) {
      c = api.dmiClient('DeviceMapperService', e.address);
      this.#clients.set(protocol, c);
    }
    return c;
  }

  close(): void {
    for (const p of [...this.#clients.keys()]) this.#dropClient(p);
  }

  #dropClient(protocol: string): void {
    this.#clients.get(protocol)?.close();
    this.#clients.delete(protocol);
  }

  #save(): void {
    try {
      mkdirSync(path.dirname(this.#file), { recursive: true });
      const tmp = `${this.#file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.list()), { mode: 0o600 });
      renameSync(tmp, this.#file);
    } catch (err) {
      this.#log.warn({ err, file: this.#file }, 'could not save the mapper registry');
    }
  }
}
