import type { Duplex } from 'node:stream';
import { badRequest } from './status.ts';

/**
 * A request Node's HTTP parser refuses (a control character in the path, a malformed header) is answered as
 * Go's net/http answers it, `400 Bad Request` (`431` for oversized headers), and the connection closed; a
 * bare reset leaves the client with "socket hang up" and nothing to go on. A socket already gone is destroyed.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = `${status.slice(4)}: ${err.code ?? 'malformed request'}`;
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * The request target as a URL. It is appended to a fixed origin rather than resolved against it: `//x` resolved
 * would be a scheme-relative URL naming host `x` (or no host at all, which throws). Anything else that does not
 * parse is a 400.
 */
export function requestUrl(target: string | undefined): URL {
  const t = target ?? '/';
  try {
    return t.startsWith('/') ? new URL(`https://apiserver.invalid${t}`) : new URL(t, 'https://apiserver.invalid');
  } catch {
    throw badRequest(`invalid request target ${JSON.stringify(t.slice(0, 200))}`);
  }
}
