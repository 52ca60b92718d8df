import { open, stat } from 'node:fs/promises';

/**
 * The CRI container log format (kubelet's, written by containerd): one line per record,
 * `<RFC3339Nano time> <stdout|stderr> <P|F> <message>`; P = partial (the message continues in the next record,
 * no newline), F = full line.
 */
export type CriLogRecord = { time: string; stream: 'stdout' | 'stderr'; partial: boolean; message: Buffer };

/** Parses one line (without its newline); undefined when it is not a CRI record. */
export function parseCriLogLine(line: Buffer): CriLogRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 <= 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const s3 = line.indexOf(0x20, s2 + 1);
  const tag = line.toString('latin1', s2 + 1, s3 < 0 ? line.length : s3);
  return {
    time: line.toString('latin1', 0, s1),
    stream,
    partial: tag.split(':').includes('P'),
    message: s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1),
  };
}

/** The record as the client sees it: the message (plus its newline when full), after the time when asked. */
export function renderRecord(r: CriLogRecord, timestamps: boolean): Buffer {
  const parts = [r.message];
  if (!r.partial) parts.push(Buffer.from('\n'));
  if (timestamps) parts.unshift(Buffer.from(`${r.time} `));
  return Buffer.concat(parts);
}

/** Splits bytes into complete lines, keeping a torn last line for the next chunk. */
export class LineSplitter {
  #rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const buf = this.#rest.length === 0 ? chunk : Buffer.concat([this.#rest, chunk]);
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      lines.push(buf.subarray(start, nl));
      start = nl + 1;
    }
    this.#rest = Buffer.from(buf.subarray(start));
    return lines;
  }
}

export type ReadCriLogOptions = {
  tailLines?: number;
  since?: Date;
  timestamps: boolean;
  follow: boolean;
  /** While following: is the container still running? Checked between polls; following ends once it is not. */
  running(): Promise<boolean>;
  signal: AbortSignal;
  pollMs?: number;
};

function writeOut(out: NodeJS.WritableStream, b: Buffer): Promise<void> | undefined {
  if (out.write(b)) return undefined;
  return new Promise((resolve) => {
    out.once('drain', resolve);
    out.once('close', resolve);
  });
}

/**
 * Streams a CRI log file: the existing records (after `since`, the last `tailLines`), then, following, what the
 * runtime appends, until the container stopped and the file was read to its end, or the signal aborts.
 */
export async function readCriLog(path: string, out: NodeJS.WritableStream, o: ReadCriLogOptions): Promise<void> {
  const sinceMs = o.since?.getTime();
  const keep = (r: CriLogRecord): boolean => sinceMs === undefined || Date.parse(r.time) >= sinceMs;
  const fh = await open(path, 'r');
  try {
    const splitter = new LineSplitter();
    let pos = 0;
    const readMore = async (): Promise<CriLogRecord[]> => {
      const records: CriLogRecord[] = [];
      const size = (await fh.stat()).size;
      while (pos < size) {
        const buf = Buffer.alloc(Math.min(1 << 20, size - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        for (const line of splitter.push(buf.subarray(0, bytesRead))) {
          const r = parseCriLogLine(line);
          if (r && keep(r)) records.push(r);
        }
      }
      return records;
    };
    let first = await readMore();
    if (o.tailLines !== undefined) first = o.tailLines <= 0 ? [] : tailRecords(first, o.tailLines);
    for (const r of first) await writeOut(out, renderRecord(r, o.timestamps));
    if (!o.follow) return;
    const pollMs = o.pollMs ?? 100;
    while (!o.signal.aborted) {
      const wasRunning = await o.running();
      for (const r of await readMore()) {
        if (o.signal.aborted) return;
        await writeOut(out, renderRecord(r, o.timestamps));
      }
      if (!wasRunning) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await fh.close();
  }
}

/** The last `n` lines, a line being the records up to and including a full (F) one. */
function tailRecords(records: CriLogRecord[], n: number): CriLogRecord[] {
  let lines = 0;
  let i = records.length;
  while (i > 0) {
    const r = records[i - 1];
    if (r && !r.partial) {
      if (lines === n) break;
      lines++;
    }
    i--;
  }
  return records.slice(i);
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
