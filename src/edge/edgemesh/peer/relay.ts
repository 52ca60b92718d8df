/**
 * Incoming relay streams on our mesh tunnel: CloudStream hands us `{ kind: 'relay', from, target, protocol }`
 * for a stream another node opened towards one of our endpoints. Anything else is refused and counted.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../core/log.ts';
import { type ServeStats, type TargetCheck, serveTarget } from './serve.ts';

export type RelayHeader = { kind: string; [key: string]: unknown };

export function relayHandler(isLocal: TargetCheck, stats: ServeStats, log?: Logger, advertise?: () => string): (header: RelayHeader, stream: Duplex) => void {
  return (header, stream) => {
    stream.on('error', () => {});
    if (header.kind !== 'relay' || typeof header['target'] !== 'string' || (header['protocol'] !== undefined && header['protocol'] !== 'tcp')) {
      stats.malformed++;
      log?.warn({ header }, 'mesh tunnel stream is not a TCP relay; refused');
      stream.end(`ERR not a tcp relay stream\n`);
      return;
    }
    void serveTarget(stream, header['target'], typeof header['from'] === 'string' ? header['from'] : '', isLocal, stats, log, advertise?.());
  };
}
