import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { DOCKER_ENDPOINT, socketPathOf } from '../endpoints.ts';
import { edgeMetrics } from '../../metrics/edge.ts';
import { DockerError, RuntimeUnavailableError, isNotFound } from '../errors.ts';
import type { ContainerConfig, ContainerInspect, ContainerSummary, ExecInspect, ImageInspect } from './api-types.ts';

/**
 * The one Docker Engine API client, over node:http: what edged needs (containers, exec, logs, events, pulls) and
 * what keadm, the checks, the scripts and the build need (image builds and imports, volumes). One request layer,
 * one error mapping, one JSON-lines progress reader serve every call. Pinned to API 1.41: the Debian 12 daemon
 * (20.10) rejects newer versions, and every call we make exists there unchanged.
 */
export type DockerClientOptions = {
  /** `unix:///var/run/docker.sock` (the form used in the edgecore config) or a bare socket path. */
  endpoint?: string;
  apiVersion?: string;
  /** For short calls; pulls, builds, imports, waits, log follows and event streams are not timed. */
  timeoutMs?: number;
};

type Query = Record<string, string | number | boolean | string[] | undefined>;

type RequestOptions = {
  query?: Query;
  /** A JSON value (sent as application/json), or a raw body: a buffer or a stream (sent chunked). */
  body?: unknown;
  raw?: Buffer | Readable;
  headers?: Record<string, string | number>;
  /** 0 = no timeout (long-running calls). */
  timeoutMs?: number;
};

type RawResponse = {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
};

/** One line of a JSON-lines progress stream (pull, build, import). */
export type Progress = Record<string, unknown>;

export type BuildOptions = { tag: string; dockerfile: string; buildArgs?: Record<string, string>; labels?: Record<string, string> };

export type ImageFacts = ImageInspect & { Size?: number; Created?: string };

export type VolumeInfo = { Name: string; Mountpoint: string; Labels: Record<string, string> | null };
export type NetworkInfo = {
  Id: string;
  Name: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Options?: Record<string, string> | null;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null };
};

/** Splits `repo[:tag]` / `repo@digest`; a colon before the last slash belongs to a registry port. */
export function splitImageRef(ref: string): { name: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: 'latest' };
}

/**
 * Incremental form of {@link demultiplex} for live streams: bytes in any split, whole payloads out by stream
 * (0 stdin, 1 stdout, 2 stderr).
 */
export class StreamDemuxer {
  #buf: Buffer = Buffer.alloc(0);
  readonly #onFrame: (stream: number, payload: Buffer) => void;

  constructor(onFrame: (stream: number, payload: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 8) {
      const size = this.#buf.readUInt32BE(4);
      if (this.#buf.length < 8 + size) break;
      const stream = this.#buf[0] ?? 1;
      this.#onFrame(stream, this.#buf.subarray(8, 8 + size));
      this.#buf = this.#buf.subarray(8 + size);
    }
  }
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

function queryString(q: Query = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) qs.append(k, x);
    else qs.set(k, String(v));
  }
  const s = qs.toString();
  return s === '' ? '' : `?${s}`;
}

/** Docker's error body (`{"message": ...}` or plain text) as a DockerError carrying Docker's own words. */
export function errorFrom(statusCode: number, body: Buffer, context: Record<string, unknown> = {}): DockerError {
  const text = body.toString('utf8').trim();
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    /* plain-text error bodies are kept as they are */
  }
  return new DockerError(statusCode, message || `HTTP ${statusCode}`, context);
}

/**
 * Splits a byte stream into JSON lines and hands each parsed object on; a torn or non-JSON line is dropped. Used
 * by progress streams and the event stream alike.
 */
export function jsonLines(onLine: (obj: Progress) => void): { push(chunk: Buffer): void; end(): void } {
  let buffered = '';
  const take = (line: string) => {
    if (line.trim() === '') return;
    let obj: Progress;
    try {
      obj = JSON.parse(line) as Progress;
    } catch {
      return;
    }
    onLine(obj);
  };
  return {
    push(chunk) {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        take(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    },
    end() {
      take(buffered);
      buffered = '';
    },
  };
}

/** The failure a progress line reports (`error` or `errorDetail.message`), if any. */
export function progressFailure(p: Progress): string | undefined {
  if (typeof p['error'] === 'string') return p['error'];
  const detail = p['errorDetail'] as { message?: string } | undefined;
  return typeof detail?.message === 'string' ? detail.message : undefined;
}

async function readAll(res: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A Docker call's metrics label: method and path with ids and names left out (`POST containers/start`). */
export function dockerOperation(method: string, path: string): string {
  const segs =
    path
      .split('?')[0]
      ?.split('/')
      .filter((x) => x !== '') ?? [];
  const head = segs[0] ?? '';
  if (segs.length <= 1) return `${method} ${head}`;
  if (segs.length === 2) return `${method} ${head}/${['json', 'create', 'prune', 'load', 'search'].includes(segs[1] ?? '') ? segs[1] : '{id}'}`;
  return `${method} ${head}/${segs[segs.length - 1]}`;
}

export class DockerClient {
  readonly endpoint: string;
  readonly socketPath: string;
  readonly prefix: string;
  readonly timeoutMs: number;

  constructor(options: DockerClientOptions = {}) {
    this.endpoint = options.endpoint ?? DOCKER_ENDPOINT;
    this.socketPath = socketPathOf(this.endpoint);
    this.prefix = `/v${options.apiVersion ?? '1.41'}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** One request; the response is returned unread. Transport failures become RuntimeUnavailableError. */
  #open(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const json = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const body = json ?? opts.raw;
    const headers: Record<string, string | number> = json ? { 'content-type': 'application/json', 'content-length': json.length } : {};
    if (Buffer.isBuffer(opts.raw)) headers['content-length'] = opts.raw.length;
    else if (opts.raw !== undefined) headers['transfer-encoding'] = 'chunked';
    Object.assign(headers, opts.headers);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const end = edgeMetrics.engineRequests.startTimer({ runtime: 'docker', operation: dockerOperation(method, path) });
    let timed = false;
    const timer = (outcome: 'ok' | 'error'): void => {
      if (!timed) end({ outcome });
      timed = true;
    };
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path: `${this.prefix}${path}${queryString(opts.query)}`, headers });
      req.once('response', (res) => timer((res.statusCode ?? 0) < 400 ? 'ok' : 'error'));
      req.once('error', () => timer('error'));
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new RuntimeUnavailableError(this.endpoint, `${method} ${path} timed out after ${timeoutMs} ms`)));
      }
      req.on('error', (err) => {
        if (err instanceof RuntimeUnavailableError) reject(err);
        else reject(new RuntimeUnavailableError(this.endpoint, err.message, { cause: err }));
      });
      req.on('response', resolve);
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
  }

  async #request(method: string, path: string, opts: RequestOptions = {}, context: Record<string, unknown> = {}): Promise<RawResponse> {
    const res = await this.#open(method, path, opts);
    const body = await readAll(res);
    const statusCode = res.statusCode ?? 0;
    if (statusCode >= 400) throw errorFrom(statusCode, body, { ...context, method, path });
    return { statusCode, headers: res.headers, body };
  }

  async #json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.#request(method, path, opts);
    if (res.body.length === 0) return undefined as T;
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  /**
   * A call answered with a JSON-lines progress stream (pull, build, import), read to its end. Docker reports
   * failures two ways: an HTTP error before streaming starts, or an `error` line in the 200 stream (e.g. after a
   * manifest lookup); both become a DockerError with Docker's own text.
   */
  async #progress(
    method: string,
    path: string,
    opts: RequestOptions,
    context: Record<string, unknown>,
    onProgress?: (p: Progress) => void,
  ): Promise<Progress[]> {
    const res = await this.#open(method, path, { ...opts, timeoutMs: 0 });
    const statusCode = res.statusCode ?? 0;
    if (statusCode >= 400) throw errorFrom(statusCode, await readAll(res), { ...context, method, path });
    const lines: Progress[] = [];
    let failure: string | undefined;
    const reader = jsonLines((p) => {
      lines.push(p);
      onProgress?.(p);
      failure = progressFailure(p) ?? failure;
    });
    for await (const c of res) reader.push(c as Buffer);
    reader.end();
    if (failure !== undefined) throw new DockerError(500, failure.trim(), { ...context, method, path });
    return lines;
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

  // --- images

  inspectImage(ref: string): Promise<ImageInspect> {
    return this.#json('GET', `/images/${encodeURIComponent(ref)}/json`);
  }

  /** The image's facts, or undefined when it is not present. */
  async imageFacts(ref: string): Promise<ImageFacts | undefined> {
    try {
      return (await this.inspectImage(ref)) as ImageFacts;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async pullImage(ref: string, onProgress?: (p: Progress) => void): Promise<void> {
    const { name, tag } = splitImageRef(ref);
    await this.#progress('POST', '/images/create', { query: { fromImage: name, tag } }, { image: ref }, onProgress);
  }

  /** `POST /build` with a tar context; resolves with the image id Docker reports. */
  async buildImage(context: Buffer, o: BuildOptions, onProgress?: (p: Progress) => void): Promise<string> {
    const query = {
      t: o.tag,
      dockerfile: o.dockerfile,
      buildargs: JSON.stringify(o.buildArgs ?? {}),
      labels: JSON.stringify(o.labels ?? {}),
      rm: true,
      forcerm: true,
    };
    const lines = await this.#progress(
      'POST',
      '/build',
      { query, raw: context, headers: { 'content-type': 'application/x-tar' } },
      { image: o.tag },
      onProgress,
    );
    for (const l of lines) {
      const aux = l['aux'] as { ID?: string } | undefined;
      if (typeof aux?.ID === 'string') return aux.ID;
    }
    return (await this.inspectImage(o.tag)).Id;
  }

  /** `docker import`: a root filesystem tar becomes a one-layer image; `changes` are Dockerfile lines (ENV, CMD...). */
  async importImage(rootfsTar: Readable, ref: string, changes: string[], onProgress?: (p: Progress) => void): Promise<void> {
    const { name, tag } = splitImageRef(ref);
    const query = { fromSrc: '-', repo: name, tag, changes };
    await this.#progress('POST', '/images/create', { query, raw: rootfsTar, headers: { 'content-type': 'application/x-tar' } }, { image: ref }, onProgress);
  }

  /** Removes an image, forcibly; an image that is already gone is not an error. */
  async removeImage(ref: string): Promise<void> {
    try {
      await this.#request('DELETE', `/images/${encodeURIComponent(ref)}`, { query: { force: true } }, { image: ref });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // --- containers

  createContainer(name: string, config: ContainerConfig): Promise<{ Id: string; Warnings: string[] | null }> {
    return this.#json('POST', '/containers/create', { query: { name }, body: config });
  }

  /** One stats reading (`stream=false`: Docker waits for a second reading so `precpu_stats` is filled). */
  async containerStats(id: string): Promise<Record<string, unknown>> {
    return this.#json<Record<string, unknown>>('GET', `/containers/${id}/stats`, { query: { stream: false } });
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

  /** Runs a short-lived container to completion and returns its exit code and output, removing it afterwards. */
  async runOnce(name: string, config: ContainerConfig): Promise<{ code: number; stdout: string; stderr: string }> {
    const { Id } = await this.createContainer(name, config);
    try {
      await this.startContainer(Id);
      const w = await this.waitContainer(Id);
      const logs = await this.containerLogs(Id);
      return { code: w.StatusCode, ...logs };
    } finally {
      await this.removeContainer(Id, { force: true }).catch(() => undefined);
    }
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

  // --- streams (logs, exec, attach): the caller reads the raw bytes

  /**
   * `GET /containers/{id}/logs` left unread: multiplexed frames (see {@link StreamDemuxer}) unless the container has
   * a TTY. `follow` keeps it open until the container stops or the caller destroys the response.
   */
  async openLogs(id: string, o: { follow?: boolean; tail?: number; since?: number; timestamps?: boolean }): Promise<http.IncomingMessage> {
    const query = { stdout: true, stderr: true, follow: o.follow ?? false, tail: o.tail ?? 'all', timestamps: o.timestamps ?? false, since: o.since };
    const res = await this.#open('GET', `/containers/${id}/logs`, { query, timeoutMs: 0 });
    const statusCode = res.statusCode ?? 0;
    if (statusCode >= 400) throw errorFrom(statusCode, await readAll(res), { method: 'GET', path: `/containers/${id}/logs` });
    return res;
  }

  /** An exec with the streams the client asked for (`Tty` merges stderr into stdout, as the engine does). */
  async execCreateStreams(id: string, cmd: string[], o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): Promise<string> {
    const r = await this.#json<{ Id: string }>('POST', `/containers/${id}/exec`, {
      body: { Cmd: cmd, AttachStdin: o.stdin, AttachStdout: o.stdout, AttachStderr: o.stderr, Tty: o.tty },
    });
    return r.Id;
  }

  /** Starts an exec and takes over the connection (`Upgrade: tcp`): stdin goes in, output comes back on it. */
  execStartHijacked(execId: string, tty: boolean): Promise<Duplex> {
    return this.#hijack('POST', `/exec/${execId}/start`, { body: { Detach: false, Tty: tty } });
  }

  /** `POST /containers/{id}/attach?stream=1` hijacked: the container's own stdio. */
  attachHijacked(id: string, o: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<Duplex> {
    return this.#hijack('POST', `/containers/${id}/attach`, { query: { stream: true, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr } });
  }

  async resizeExec(execId: string, width: number, height: number): Promise<void> {
    await this.#request('POST', `/exec/${execId}/resize`, { query: { h: height, w: width } });
  }

  async resizeContainer(id: string, width: number, height: number): Promise<void> {
    await this.#request('POST', `/containers/${id}/resize`, { query: { h: height, w: width } });
  }

  /**
   * Docker's hijack: the request carries `Connection: Upgrade, Upgrade: tcp`, the engine answers 101 and the
   * socket becomes the raw stream. An engine that answers 200 instead (no upgrade) streams on the response.
   */
  #hijack(method: string, path: string, opts: RequestOptions): Promise<Duplex> {
    const json = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string | number> = { connection: 'Upgrade', upgrade: 'tcp' };
    if (json) Object.assign(headers, { 'content-type': 'application/json', 'content-length': json.length });
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path: `${this.prefix}${path}${queryString(opts.query)}`, headers });
      req.on('error', (err) => reject(new RuntimeUnavailableError(this.endpoint, err.message, { cause: err })));
      req.on('upgrade', (_res, socket, head) => {
        // The caller watches 'close'; a write after the engine hung up must not become an uncaught error.
        socket.on('error', () => undefined);
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        const statusCode = res.statusCode ?? 0;
        readAll(res).then((body) => reject(errorFrom(statusCode, body, { method, path })), reject);
      });
      req.end(json);
    });
  }

  // --- volumes

  createVolume(name: string, labels: Record<string, string>): Promise<VolumeInfo> {
    return this.#json('POST', '/volumes/create', { body: { Name: name, Labels: labels } });
  }

  async listVolumes(labels: string[]): Promise<VolumeInfo[]> {
    const r = await this.#json<{ Volumes: VolumeInfo[] | null }>('GET', '/volumes', { query: { filters: JSON.stringify({ label: labels }) } });
    return r.Volumes ?? [];
  }

  /** Removes a volume, forcibly; a volume that is already gone is not an error. */
  async removeVolume(name: string): Promise<void> {
    try {
      await this.#request('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: true } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // --- networks

  /** A bridge network; `bridgeName` names its host interface (what EdgeMesh's listenInterface points at). */
  createNetwork(name: string, o: { labels: Record<string, string>; bridgeName?: string }): Promise<{ Id: string }> {
    return this.#json('POST', '/networks/create', {
      body: {
        Name: name,
        Driver: 'bridge',
        Labels: o.labels,
        CheckDuplicate: true,
        ...(o.bridgeName !== undefined ? { Options: { 'com.docker.network.bridge.name': o.bridgeName } } : {}),
      },
    });
  }

  async listNetworks(labels: string[]): Promise<NetworkInfo[]> {
    return this.#json<NetworkInfo[]>('GET', '/networks', { query: { filters: JSON.stringify({ label: labels }) } });
  }

  /** Removes a network; one that is already gone is not an error. */
  async removeNetwork(idOrName: string): Promise<void> {
    try {
      await this.#request('DELETE', `/networks/${encodeURIComponent(idOrName)}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // --- events

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
        const reader = jsonLines(onEvent);
        r.on('data', (c: Buffer) => reader.push(c));
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
