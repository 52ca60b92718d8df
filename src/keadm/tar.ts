/**
 * A minimal ustar writer: regular files, directories and symbolic links, enough for a `docker build` context
 * and a busybox root filesystem. Node has no tar, and these archives are small, so a dependency would cost more
 * than these lines.
 */
export type TarEntry = { name: string; data?: Buffer; mode?: number; mtime?: number; dir?: boolean; symlink?: string };

const BLOCK = 512;

function octal(n: number, width: number): string {
  // width includes the trailing NUL
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** Splits a long path into ustar's prefix (155) and name (100) fields at a slash. */
function splitName(name: string): { prefix: string; base: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', base: name };
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100) return { prefix, base };
  }
  throw new Error(`path too long for a ustar archive: ${name}`);
}

export function tarHeader(e: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const name = e.dir === true && !e.name.endsWith('/') ? `${e.name}/` : e.name;
  const { prefix, base } = splitName(name);
  h.write(base, 0, 100, 'utf8');
  h.write(octal(e.mode ?? (e.dir === true ? 0o755 : 0o644), 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  const bodyless = e.dir === true || e.symlink !== undefined;
  h.write(octal(bodyless ? 0 : (e.data?.length ?? 0), 12), 124, 'ascii');
  h.write(octal(Math.floor(e.mtime ?? Date.now() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum counts as spaces while summing
  h.write(e.dir === true ? '5' : e.symlink !== undefined ? '2' : '0', 156, 'ascii');
  if (e.symlink !== undefined) h.write(e.symlink, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** The whole archive in memory: contexts are a few megabytes (the bundles), so streaming buys nothing. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e));
    if (e.dir !== true && e.symlink === undefined && e.data !== undefined && e.data.length > 0) {
      parts.push(e.data);
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}
