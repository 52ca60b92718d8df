/**
 * The node-to-node EdgeMesh protocol, the same on the direct TLS link and inside a cloud relay stream: the
 * dialling side names the target in a first line of JSON (`{"target":"<podIP>:<port>","protocol":"tcp","from":"<node>"}`
 * on the direct link; a relay stream carries the same in its header); the serving side answers one line,
 * `OK` once it has connected to the target or  `ERR <reason>` before closing, then the bytes flow both ways.
 * The answer line lets the dialler tell "that pod refused" (try another backend) from "that node is unreachable"
 * (try the relay).
 */
import type { Duplex } from 'node:stream';
import { KubeEdgeError } from '../../../core/errors.ts';

export const MAX_LINE = 1024;
export type PeerRequest = { target: string; protocol: 'tcp'; from: string };

export class PeerProtocolError extends KubeEdgeError {
  constructor(reason: string, context: Record<string, unknown> = {}) {
    super('KE_EDGEMESH_PEER', `EdgeMesh peer: ${reason}`, context);
  }
}

/** Reads one `\n`-terminated line (at most MAX_LINE bytes) and puts back what came after it. */
export function readLine(s: Duplex, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, line?: string) => {
      clearTimeout(t);
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('error', onErr);
      s.off('close', onEnd);
      if (err !== undefined) reject(err);
      else resolve(line ?? '');
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const i = buf.indexOf(10);
      if (i >= 0) {
        s.pause();
        const rest = buf.subarray(i + 1);
        if (rest.length > 0) s.unshift(rest);
        done(undefined, buf.subarray(0, i).toString('utf8').replace(/\r$/, ''));
      } else if (buf.length > MAX_LINE) done(new PeerProtocolError(`first line longer than ${MAX_LINE} bytes`));
    };
    const onEnd = () => done(new PeerProtocolError('closed before the first line'));
    const onErr = (err: Error) => done(err);
    const t = setTimeout(() => done(new PeerProtocolError(`no first line in ${timeoutMs} ms`)), timeoutMs);
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.once('error', onErr);
    s.resume();
  });
}

export function parseRequest(line: string): PeerRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new PeerProtocolError('first line is not JSON');
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof o['target'] !== 'string' || parseTarget(o['target']) === undefined)
    throw new PeerProtocolError('first line has no valid "target" (<ip>:<port>)');
  if (o['protocol'] !== undefined && o['protocol'] !== 'tcp') throw new PeerProtocolError(`protocol ${String(o['protocol'])} is not carried (tcp only)`);
  return { target: o['target'], protocol: 'tcp', from: typeof o['from'] === 'string' ? o['from'] : '' };
}

export function parseTarget(t: string): { ip: string; port: number } | undefined {
  const m = /^\[?([0-9a-fA-F:.]+)\]?:(\d{1,5})$/.exec(t);
  if (m === null) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { ip: m[1] ?? '', port } : undefined;
}
