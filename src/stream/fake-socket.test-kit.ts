import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';

/**
 * A fake in-memory WebSocket pair for the tunnel's unit tests (no sockets): what one side sends arrives on the
 * other as a binary message on a later tick, in order; `sent` records every frame for the tests to inspect.
 */
export class FakeSocket extends EventEmitter {
  readyState = 1;
  peer: FakeSocket | undefined;
  readonly sent: Buffer[] = [];

  send(data: Buffer, cb?: (err?: Error) => void): void {
    const copy = Buffer.from(data);
    this.sent.push(copy);
    setImmediate(() => {
      if (this.peer !== undefined && this.peer.readyState === 1) this.peer.emit('message', copy, true);
      cb?.();
    });
  }

  /** Delivers raw bytes to the peer as if sent by this side, bypassing the session (malformed input tests). */
  inject(data: Buffer | string, binary = true): void {
    this.peer?.emit('message', typeof data === 'string' ? Buffer.from(data) : data, binary);
  }

  ping(): void {
    setImmediate(() => this.emit('pong'));
  }

  close(): void {
    for (const s of [this, this.peer]) {
      if (s === undefined || s.readyState !== 1) continue;
      s.readyState = 3;
      setImmediate(() => s.emit('close', 1000, Buffer.alloc(0)));
    }
  }

  terminate(): void {
    this.close();
  }
}

export function fakeSocketPair(): [WebSocket, WebSocket, FakeSocket, FakeSocket] {
  const a = new FakeSocket();
  const b = new FakeSocket();
  a.peer = b;
  b.peer = a;
  return [a as unknown as WebSocket, b as unknown as WebSocket, a, b];
}
