/**
 * The serving half, shared by the direct peer link and incoming relay streams: check the requested target is a
 * ready endpoint of this node (a peer may reach our pods only as a Service backend, never anything else on our
 * network), connect to it, answer `OK` and splice; otherwise `ERR <reason>` and close.
 */
import type { Duplex } from 'node:stream';
import { describeError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import { dialTcp } from '../proxy/dial.ts';
import { parseTarget } from './protocol.ts';

export type TargetCheck = (ip: string, port: number) => boolean;
export type ServeStats = { served: number; refused: number; malformed: number };

/**
 * `advertise` (this node's `InternalIP:peerPort`) rides on the `OK` line, so a node that reached us through the
 * relay learns where to try the direct link next time.
 */
export async function serveTarget(
  stream: Duplex,
  target: string,
  from: string,
  isLocal: TargetCheck,
  stats: ServeStats,
  log?: Logger,
  advertise?: string,
): Promise<void> {
  const t = parseTarget(target);
  if (t === undefined || !isLocal(t.ip, t.port)) {
    stats.refused++;
    log?.warn({ from, target }, 'EdgeMesh peer asked for a target that is not a local endpoint; refused');
    stream.end(`ERR ${target} is not a ready endpoint on this node\n`);
    return;
  }
  let up: Duplex;
  try {
    up = await dialTcp(t.ip, t.port);
  } catch (err) {
    stats.refused++;
    stream.end(`ERR ${describeError(err)}\n`);
    return;
  }
  stats.served++;
  stream.write(advertise === undefined || advertise === '' ? 'OK\n' : `OK ${advertise}\n`);
  up.on('error', () => stream.destroy());
  stream.on('error', () => up.destroy());
  stream.pipe(up);
  up.pipe(stream);
  stream.once('close', () => up.destroy());
  up.once('close', () => stream.end());
  stream.resume();
}
