import http from 'node:http';
import { DockerError, RuntimeUnavailableError } from '../errors.ts';
import type { ContainerConfig, ContainerInspect, ContainerSummary, ExecInspect, ImageInspect } from './api-types.ts';

/**
 * A thin Docker Engine API client over node:http. Pinned to API 1.41: the Debian 12 daemon (20.10) rejects newer
 * versions, and every call we make exists there unchanged.
 */
export type DockerClientOptions = {
  /** `unix:///var/run/docker.sock` (the form used in the edgecore config) or a bare socket path. */
  endpoint?: string;
  apiVersion?: string;
  /** For short calls; pulls, waits, log follows and event streams are not timed. */
  timeoutMs?: number;
};

type RequestOptions = {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** 0 = no timeout (long-running calls). */
  timeoutMs?: number;
};

type RawResponse = {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
};

export function socketPathOf(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint.slice('unix://'.length);
  if (endpoint.includes('://')) throw new RuntimeUnavailableError(endpoint, 'only unix:// endpoints are supported');
  return endpoint;
}

/** Splits `repo[:tag]` / `repo@digest`; a colon before the last slash belongs to a registry port. */
export function splitImageRef(ref: string): { name: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: 'latest' };
}

/** Decodes Docker's multiplexed stream: frames of [stream, 0, 0, 0, size(4, big-endian)] + payload. */
export function demultiplex(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const stream = buf[off];
    const size = buf.readUInt32BE(off + 4);
    const payload = buf.subarray(off + 8, off + 8 + size);
    (stream === 2 ? err : out).push(payload);
    off += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export class DockerClient {
  readonly endpoint: string;
  readonly socketPath: string;
  readonly prefix: string;
  readonly timeoutMs: number;

  constructor(options: DockerClientOptions = {}) {
    this.endpoint = options.endpoint ?? 'unix:///var/run/docker.sock';
    this.socketPath = socketPathOf(this.endpoint);
    this.prefix = `/v${options.apiVersion ?? '1.41'}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  #open(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const q = qs.toString();
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        method,
        path: `${this.prefix}${path}${q ? `?${q}` : ''}`,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      });
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new RuntimeUnavailableError(this.endpoint, `${method} ${path} timed out after ${timeoutMs} ms`)));
      }
      req.on('error', (err) => {
        if (err instanceof RuntimeUnavailableError) reject(err);
        else reject(new RuntimeUnavailableError(this.endpoint, err.message, { cause: err }));
      });
      req.on('response', resolve);
      req.end(payload);
    });
  }

  async #request(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const res = await this.#open(method, path, opts);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const statusCode = res.statusCode ?? 0;
    if (statusCode >= 400) throw errorFrom(statusCode, body, method, path);
    return { statusCode, headers: res.headers, body };
  }

  async #json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.#request(method, path, opts);
    if (res.body.length === 0) return undefined as T;
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  async ping(): Promise<string> {
    return (await this.#request('GET', '/_ping', { timeoutMs: 5000 })).body.toString('utf8');
  }

  version(): Promise<{ Version: string; ApiVersion: string; Os: string; Arch: string; KernelVersion?: string }> {
    return this.#json('GET', '/version');
  }

  info(): Promise<Record<string, unknown>> {
    return this.#json('GET', '/info');
  }

  inspectImage(ref: string): Promise<ImageInspect> {
    return this.#json('GET', `/images/${encodeURIComponent(ref)}/json`);
  }

  /**
   * Pulls an image. Docker reports failures two ways: an HTTP error before streaming starts, or an `error`
   * line in the 200 progress stream (e.g. after a manifest lookup); both become a DockerError with its text.
   */
  async pullImage(ref: string, onProgress?: (line: Record<string, unknown>) => void): Promise<void> {
    const { name, tag } = splitImageRef(ref);
    const res = await this.#open('POST', '/images/create', { query: { fromImage: name, tag }, timeoutMs: 0 });
    const statusCode = res.statusCode ?? 0;
    let buffered = '';
    let failure: string | undefined;
    const chunks: Buffer[] = [];
    for await (const c of res) {
      if (statusCode >= 400) {
        chunks.push(c as Buffer);
        continue;
      }
      buffered += (c as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        failure = parseProgress(line, onProgress) ?? failure;
      }
    }
    if (statusCode >= 400) throw errorFrom(statusCode, Buffer.concat(chunks), 'POST', '/images/create', { image: ref });
    failure = parseProgress(buffered.trim(), onProgress) ?? failure;
    if (failure !== undefined) throw new DockerError(500, failure, { image: ref });
  }

  createContainer(name: string, config: ContainerConfig): Promise<{ Id: string; Warnings: string[] | null }> {
    return this.#json('POST', '/containers/create', { query: { name }, body: config });
  }

  async startContainer(id: string): Promise<void> {
    await this.#request('POST', `/containers/${id}/start`);
  }

  /** Docker sends the image's stop signal (SIGTERM), then SIGKILL after `timeoutSec`. */
  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    await this.#request('POST', `/containers/${id}/stop`, { query: { t: timeoutSec }, timeoutMs: (timeoutSec + 30) * 1000 });
  }

  async killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.#request('POST', `/containers/${id}/kill`, { query: { signal } });
  }

  async removeContainer(id: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.#request('DELETE', `/containers/${id}`, { query: { force: opts.force ?? false, v: opts.volumes ?? false } });
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.#json('GET', `/containers/${id}/json`);
  }

  /** `labels` are Docker label filters: `key` or `key=value`, all must match. */
  listContainers(opts: { all?: boolean; labels?: string[] } = {}): Promise<ContainerSummary[]> {
    const filters = opts.labels && opts.labels.length > 0 ? JSON.stringify({ label: opts.labels }) : undefined;
    return this.#json('GET', '/containers/json', { query: { all: opts.all ?? true, filters } });
  }

  waitContainer(id: string): Promise<{ StatusCode: number; Error?: { Message: string } | null }> {
    return this.#json('POST', `/containers/${id}/wait`, { timeoutMs: 0 });
  }

  async containerLogs(id: string, opts: { tail?: number; timestamps?: boolean } = {}): Promise<{ stdout: string; stderr: string }> {
    const res = await this.#request('GET', `/containers/${id}/logs`, {
      query: { stdout: true, stderr: true, tail: opts.tail ?? 'all', timestamps: opts.timestamps ?? false },
    });
    return demultiplex(res.body);
  }

  async execCreate(id: string, cmd: string[]): Promise<string> {
    const r = await this.#json<{ Id: string }>('POST', `/containers/${id}/exec`, {
      body: { Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false },
    });
    return r.Id;
  }

  /** Runs an attached exec to completion and returns its output; the daemon closes the stream at exit. */
  async execStart(execId: string, timeoutMs = 0): Promise<{ stdout: string; stderr: string }> {
    const res = await this.#request('POST', `/exec/${execId}/start`, { body: { Detach: false, Tty: false }, timeoutMs });
    return demultiplex(res.body);
  }

  execInspect(execId: string): Promise<ExecInspect> {
    return this.#json('GET', `/exec/${execId}/json`);
  }

  /**
   * Streams engine events (JSON lines) until `close()`. Used only to react faster; callers must still poll,
   * because an event stream can drop silently.
   */
  events(filters: Record<string, string[]>, onEvent: (e: Record<string, unknown>) => void, onEnd: (err?: Error) => void): { close(): void } {
    let closed = false;
    let res: http.IncomingMessage | undefined;
    this.#open('GET', '/events', { query: { filters: JSON.stringify(filters) }, timeoutMs: 0 }).then(
      (r) => {
        res = r;
        if (closed) {
          r.destroy();
          return;
        }
        let buffered = '';
        r.on('data', (c: Buffer) => {
          buffered += c.toString('utf8');
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line === '') continue;
            try {
              onEvent(JSON.parse(line) as Record<string, unknown>);
            } catch {
              /* a torn line is dropped; polling covers it */
            }
          }
        });
        r.on('end', () => {
          if (!closed) onEnd();
        });
        r.on('error', (err) => {
          if (!closed) onEnd(err);
        });
      },
      (err: Error) => {
        if (!closed) onEnd(err);
      },
    );
    return {
      close: () => {
        closed = true;
        res?.destroy();
      },
    };
  }
}

function parseProgress(line: string, onProgress?: (line: Record<string, unknown>) => void): string | undefined {
  if (line === '') return undefined;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  onProgress?.(obj);
  if (typeof obj['error'] === 'string') return obj['error'];
  const detail = obj['errorDetail'] as { message?: string } | undefined;
  return typeof detail?.message === 'string' ? detail.message : undefined;
}

function errorFrom(statusCode: number, body: Buffer, method: string, path: string, context: Record<string, unknown> = {}): DockerError {
  const text = body.toString('utf8').trim();
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    /* plain-text error bodies are kept as they are */
  }
  return new DockerError(statusCode, message || `HTTP ${statusCode}`, { ...context, method, path });
}
