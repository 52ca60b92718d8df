import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { EventBusStoreError } from './errors.ts';

/**
 * KubeEdge's `sub_topics` table (`topic` TEXT primary key) in the edge database: the topics the cloud asked
 * EventBus to subscribe to, so they survive a restart.
 */
export class SubTopicStore {
  readonly #db: DatabaseSync;

  constructor(dataSource: string) {
    try {
      if (dataSource !== ':memory:') mkdirSync(dirname(dataSource), { recursive: true });
      this.#db = new DatabaseSync(dataSource);
      this.#db.exec('PRAGMA busy_timeout=5000');
      this.#db.exec('CREATE TABLE IF NOT EXISTS sub_topics (topic TEXT NOT NULL PRIMARY KEY)');
    } catch (err) {
      throw new EventBusStoreError(`cannot open sub_topics in ${dataSource}`, { dataSource }, err);
    }
  }

  add(topic: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO sub_topics (topic) VALUES (?)').run(topic);
  }

  remove(topic: string): void {
    this.#db.prepare('DELETE FROM sub_topics WHERE topic = ?').run(topic);
  }

  all(): string[] {
    return (this.#db.prepare('SELECT topic FROM sub_topics ORDER BY topic').all() as Array<{ topic: string }>).map((r) => r.topic);
  }

  close(): void {
    this.#db.close();
  }
}
