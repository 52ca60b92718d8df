import type { Duplex } from 'node:stream';
import { type DockerClient, StreamDemuxer } from '../../../../containers/docker/client.ts';
import type { LogOptions, StreamIO, StreamingRuntime, TerminalSize } from '../types.ts';

/** Writes with backpressure: resolves once `out` can take more. */
function writeTo(out: NodeJS.WritableStream, chunk: Buffer): Promise<void> | undefined {
  if (out.write(chunk)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      out.removeListener('drain', done);
      out.removeListener('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/**
 * Engine output into the client's streams: TTY = raw bytes to stdout, otherwise Docker's multiplexed frames split
 * into stdout and stderr. The source pauses while a destination is full (a slow `kubectl logs -f` reader slows the
 * engine stream, nothing piles up here).
 */
async function copyOut(
  src: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown },
  tty: boolean,
  stdout?: NodeJS.WritableStream,
  stderr?: NodeJS.WritableStream,
): Promise<void> {
  let pending: Promise<void> | undefined;
  const demux = new StreamDemuxer((stream, payload) => {
    const out = stream === 2 ? stderr : stdout;
    if (!out || payload.length === 0) return;
    const p = writeTo(out, Buffer.from(payload));
    if (p) pending = p;
  });
  src.on('data', (chunk: Buffer) => {
    if (tty) {
      if (stdout) pending = writeTo(stdout, chunk) ?? pending;
    } else demux.push(chunk);
    if (pending) {
      const p = pending;
      pending = undefined;
      src.pause();
      void p.then(() => src.resume());
    }
  });
  await new Promise<void>((resolve) => {
    src.once('end', resolve);
    src.once('close', resolve);
    src.on('error', () => resolve());
  });
}

/**
 * Resize events to the engine; the latest size wins, and one arriving before the process started is applied at
 * start. The engine refuses a resize until the exec's process runs (a moment after the hijack), so the first one
 * is retried briefly, as the Docker CLI does.
 */
function resizer(io: StreamIO, apply: (s: TerminalSize) => Promise<void>): { start(): void } {
  let started = false;
  let last: TerminalSize | undefined = io.resize?.last;
  const applyRetrying = async (s: TerminalSize): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      try {
        await apply(s);
        return;
      } catch {
        if (io.signal.aborted || s !== last) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  io.resize?.on('resize', (s: TerminalSize) => {
    last = s;
    if (started) void applyRetrying(s);
  });
  return {
    start() {
      started = true;
      if (last) void applyRetrying(last);
    },
  };
}

/** stdin into the hijacked connection; its end half-closes the connection, which the engine reads as EOF. */
function copyIn(io: StreamIO, sock: Duplex, halfClose: boolean): void {
  if (!io.stdin) return;
  io.stdin.on('data', (c: Buffer) => {
    if (!sock.write(c)) {
      io.stdin?.pause();
      sock.once('drain', () => io.stdin?.resume());
    }
  });
  io.stdin.once('end', () => {
    if (halfClose) sock.end();
  });
}

/** Logs, exec and attach over the Docker Engine API (hijacked connections, multiplexed output). */
export class DockerStreaming implements StreamingRuntime {
  readonly #client: DockerClient;

  constructor(client: DockerClient) {
    this.#client = client;
  }

  async logs(id: string, o: LogOptions, out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
    const tty = (await this.#client.inspectContainer(id)).Config.Tty === true;
    const res = await this.#client.openLogs(id, {
      follow: o.follow,
      ...(o.tailLines !== undefined ? { tail: o.tailLines } : {}),
      ...(o.since !== undefined ? { since: Math.floor(o.since.getTime() / 1000) } : {}),
      timestamps: o.timestamps,
    });
    const abort = (): void => {
      res.destroy();
    };
    signal.addEventListener('abort', abort, { once: true });
    try {
      await copyOut(res, tty, out, out);
    } finally {
      signal.removeEventListener('abort', abort);
      res.destroy();
    }
  }

  async execStream(id: string, cmd: string[], io: StreamIO): Promise<number> {
    const execId = await this.#client.execCreateStreams(id, cmd, {
      stdin: io.stdin !== undefined,
      stdout: io.stdout !== undefined,
      stderr: io.stderr !== undefined && !io.tty,
      tty: io.tty,
    });
    const resize = resizer(io, (s) => this.#client.resizeExec(execId, s.width, s.height));
    const sock = await this.#client.execStartHijacked(execId, io.tty);
    const abort = (): void => {
      sock.destroy();
    };
    io.signal.addEventListener('abort', abort, { once: true });
    try {
      resize.start();
      copyIn(io, sock, true);
      await copyOut(sock, io.tty, io.stdout, io.stderr);
    } finally {
      io.signal.removeEventListener('abort', abort);
      sock.destroy();
    }
    // The stream closes as the process exits; the engine records the exit code a moment later.
    for (let i = 0; i < 50; i++) {
      const r = await this.#client.execInspect(execId);
      if (!r.Running) return r.ExitCode ?? -1;
      await new Promise((r) => setTimeout(r, 100));
    }
    return -1;
  }

  async attachStream(id: string, io: StreamIO): Promise<void> {
    const tty = (await this.#client.inspectContainer(id)).Config.Tty === true;
    const resize = resizer(io, (s) => this.#client.resizeContainer(id, s.width, s.height));
    const sock = await this.#client.attachHijacked(id, { stdin: io.stdin !== undefined, stdout: io.stdout !== undefined, stderr: io.stderr !== undefined });
    const abort = (): void => {
      sock.destroy();
    };
    io.signal.addEventListener('abort', abort, { once: true });
    try {
      resize.start();
      // Attach never half-closes: the container's stdin outlives one client (kubectl attach can come back).
      copyIn(io, sock, false);
      await copyOut(sock, tty, io.stdout, io.stderr);
    } finally {
      io.signal.removeEventListener('abort', abort);
      sock.destroy();
    }
  }
}
