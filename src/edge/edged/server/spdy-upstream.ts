import { once } from 'node:events';
import net from 'node:net';
import { SpdySession, type SpdyStream } from '../../../stream/spdy/index.ts';
import type { StreamFlags } from '../runtime/types.ts';
import type { RemoteChannels } from './channels.ts';
import { errorStatus, successStatus, type KubeStatus } from './status.ts';

/** Dials a runtime streaming server URL and upgrades to SPDY/3.1 with `v4.channel.k8s.io`, as the kubelet's client does. */
async function dialSpdy(target: string): Promise<SpdySession> {
  const u = new URL(target);
  const sock = net.connect({ host: u.hostname, port: Number(u.port || 80) });
  await once(sock, 'connect');
  sock.write(
    `POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(sock, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > 16_384) break;
      continue;
    }
    const head = buf.subarray(0, end).toString('latin1');
    if (!head.startsWith('HTTP/1.1 101')) break;
    sock.pause();
    const rest = buf.subarray(end + 4);
    if (rest.length > 0) sock.unshift(rest);
    const session = new SpdySession(sock, { server: false });
    sock.resume();
    return session;
  }
  sock.destroy();
  throw new Error(`runtime streaming server refused the upgrade: ${buf.toString('latin1').split('\r\n')[0] ?? ''}`);
}

async function readAll(s: SpdyStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * A v5 WebSocket client bridged to the runtime's SPDY streaming server. containerd's server speaks WebSocket only
 * up to v4, which cannot say "stdin is done" (so `kubectl cp` into a pod or `exec` reading stdin to its end would
 * hang); its SPDY side can (FIN on the stdin stream), so v5's close signal becomes that FIN.
 */
export async function bridgeToSpdy(target: string, flags: StreamFlags, ch: RemoteChannels): Promise<void> {
  let session: SpdySession;
  try {
    session = await dialSpdy(target);
  } catch (err) {
    await ch.finish(errorStatus(err instanceof Error ? err.message : String(err)));
    return;
  }
  ch.signal.addEventListener('abort', () => session.destroy(), { once: true });
  const opened = await Promise.all([
    session.openStream({ streamtype: 'error' }, { fin: true }),
    flags.stdin ? session.openStream({ streamtype: 'stdin' }) : undefined,
    flags.stdout ? session.openStream({ streamtype: 'stdout' }, { fin: true }) : undefined,
    flags.stderr && !flags.tty ? session.openStream({ streamtype: 'stderr' }, { fin: true }) : undefined,
    flags.tty ? session.openStream({ streamtype: 'resize' }) : undefined,
  ]).catch(() => undefined);
  if (!opened) {
    session.destroy();
    await ch.finish(errorStatus('the runtime streaming server did not accept the streams'));
    return;
  }
  const [error, stdin, stdout, stderr, resize] = opened;
  for (const s of opened) s?.on('error', () => undefined);
  if (stdin && ch.stdin) ch.stdin.pipe(stdin);
  if (resize) {
    if (ch.resize.last) resize.write(JSON.stringify({ Width: ch.resize.last.width, Height: ch.resize.last.height }));
    ch.resize.on('resize', (s: { width: number; height: number }) => resize.write(JSON.stringify({ Width: s.width, Height: s.height })));
  }
  const copy = async (from: SpdyStream | undefined, to: NodeJS.WritableStream | undefined): Promise<void> => {
    if (!from) return;
    for await (const c of from) if (to && !to.write(c as Buffer)) await once(to, 'drain');
  };
  const [statusBytes] = await Promise.all([readAll(error), copy(stdout, ch.stdout), copy(stderr, ch.stderr)]);
  session.destroy();
  let status: KubeStatus = successStatus();
  if (statusBytes.length > 0) {
    try {
      status = JSON.parse(statusBytes.toString('utf8')) as KubeStatus;
    } catch {
      status = errorStatus(statusBytes.toString('utf8'));
    }
  }
  await ch.finish(status);
}
