import { chmod, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { PodSetupError } from './errors.ts';

export type Payload = Map<string, { content: Buffer; mode: number }>;

const DATA = '..data';

/** A relative path that cannot climb out of its volume (paths come from the cloud). */
export function safePath(p: string): string {
  const n = normalize(p);
  if (n.startsWith('..') || n.startsWith(sep) || n === '.' || n === '') throw new PodSetupError('FailedMount', `invalid volume item path ${JSON.stringify(p)}`);
  return n;
}

async function readTree(dir: string, base: string, out: Payload): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(base, dir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = dir === '' ? e.name : join(dir, e.name);
    if (e.isDirectory()) await readTree(rel, base, out);
    else {
      const full = join(base, rel);
      out.set(rel, { content: await readFile(full), mode: (await stat(full)).mode & 0o777 });
    }
  }
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const o = b.get(k);
    if (o === undefined || o.mode !== v.mode || !o.content.equals(v.content)) return false;
  }
  return true;
}

/**
 * Writes `payload` into `dir` as kubelet's atomic writer does: the files go into a fresh hidden directory,
 * `..data` is switched to it by one rename of a symlink, and each top-level name in `dir` is a symlink into
 * `..data`. A reader inside the container therefore sees either the old set of files or the new one, never a
 * half-written file or a mix. Nothing is written when the content is what is there. Returns whether it wrote.
 */
export async function writeAtomic(dir: string, payload: Payload): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  const current: Payload = new Map();
  const oldTarget = await readlink(join(dir, DATA)).catch(() => undefined);
  if (oldTarget !== undefined) await readTree('', join(dir, DATA), current);
  if (oldTarget !== undefined && samePayload(current, payload)) return false;
  const stamp = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${process.hrtime.bigint() % 1_000_000n}`;
  const fresh = join(dir, stamp);
  await mkdir(fresh, { recursive: true });
  for (const [rel, { content, mode }] of payload) {
    const target = join(fresh, rel);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content, { mode });
    await chmod(target, mode);
  }
  const tmpLink = join(dir, `${DATA}_tmp`);
  await rm(tmpLink, { force: true });
  await symlink(stamp, tmpLink);
  await rename(tmpLink, join(dir, DATA));
  const top = new Set([...payload.keys()].map((k) => k.split(sep)[0] as string));
  for (const name of top) {
    const link = join(dir, name);
    const existing = await readlink(link).catch(() => undefined);
    if (existing === join(DATA, name)) continue;
    await rm(link, { recursive: true, force: true });
    await symlink(join(DATA, name), link);
  }
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === DATA || e.name === stamp) continue;
    if (e.name.startsWith('..') || !top.has(e.name)) await rm(join(dir, e.name), { recursive: true, force: true });
  }
  return true;
}
