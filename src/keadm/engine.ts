/**
 * What keadm needs from the Docker Engine API beyond the edged client: image builds and imports (streamed
 * bodies with JSON-lines progress), volumes, and "does this image exist". Shares the client's socket and API version.
 */
import http from 'node:http';
import type { Readable } from 'node:stream';
import { DockerClient } from '../edge/edged/runtime/docker/client.ts';
import { DockerError, RuntimeUnavailableError, isNotFound } from '../edge/edged/runtime/errors.ts';
import type { ImageInspect } from '../edge/edged/runtime/docker/api-types.ts';

export { DockerClient, DockerError, RuntimeUnavailableError, isNotFound };
export const DEFAULT_ENDPOINT = 'unix:///var/run/docker.sock';

export type Progress = Record<string, unknown>;

type Query = Record<string, string | number | boolean | string[] | undefined>;

function queryString(q: Query): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) qs.append(k, x);
    else qs.set(k, String(v));
  }
  const s = qs.toString();
  return s === '' ? '' : `?${s}`;
}

/** One request with an optional streamed or buffered body; the response is returned unread. */
function open(
  c: DockerClient,
  method: string,
  path: string,
  q: Query,
  body?: Buffer | Readable,
  headers: Record<string, string | number> = {},
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: c.socketPath, method, path: `${c.prefix}${path}${queryString(q)}`, headers });
    req.on('error', (err) => reject(new RuntimeUnavailableError(c.endpoint, err.message, { cause: err })));
    req.on('response', resolve);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}

async function readAll(res: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function fail(status: number, body: Buffer, what: string): DockerError {
  let message = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(message) as { message?: string };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    /* plain text */
  }
  return new DockerError(status, message || `HTTP ${status}`, { what });
}

/**
 * Reads a JSON-lines progress stream to its end. Docker reports a failed build or import inside a 200 stream
 * (`error`/`errorDetail`), so a stream that ends with one becomes a DockerError carrying Docker's own text.
 */
async function followProgress(res: http.IncomingMessage, what: string, onProgress?: (p: Progress) => void): Promise<Progress[]> {
  const status = res.statusCode ?? 0;
  if (status >= 400) throw fail(status, await readAll(res), what);
  const lines: Progress[] = [];
  let failure: string | undefined;
  let buffered = '';
  const take = (line: string) => {
    if (line.trim() === '') return;
    let p: Progress;
    try {
      p = JSON.parse(line) as Progress;
    } catch {
      return;
    }
    lines.push(p);
    onProgress?.(p);
    const detail = p['errorDetail'] as { message?: string } | undefined;
    if (typeof p['error'] === 'string') failure = p['error'];
    else if (typeof detail?.message === 'string') failure = detail.message;
  };
  for await (const c of res) {
    buffered += (c as Buffer).toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      take(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  take(buffered);
  if (failure !== undefined) throw new DockerError(500, failure.trim(), { what });
  return lines;
}

export type BuildOptions = { tag: string; dockerfile: string; buildArgs?: Record<string, string>; labels?: Record<string, string> };

/** `POST /build` with a tar context; resolves with the image id Docker reports. */
export async function buildImage(c: DockerClient, context: Buffer, o: BuildOptions, onProgress?: (p: Progress) => void): Promise<string> {
  const res = await open(
    c,
    'POST',
    '/build',
    {
      t: o.tag,
      dockerfile: o.dockerfile,
      buildargs: JSON.stringify(o.buildArgs ?? {}),
      labels: JSON.stringify(o.labels ?? {}),
      rm: true,
      forcerm: true,
    },
    context,
    { 'content-type': 'application/x-tar', 'content-length': context.length },
  );
  const lines = await followProgress(res, `build ${o.tag}`, onProgress);
  for (const l of lines) {
    const aux = l['aux'] as { ID?: string } | undefined;
    if (typeof aux?.ID === 'string') return aux.ID;
  }
  return (await c.inspectImage(o.tag)).Id;
}

/** `docker import`: a root filesystem tar becomes a one-layer image; `changes` are Dockerfile lines (ENV, CMD...). */
export async function importImage(c: DockerClient, rootfsTar: Readable, ref: string, changes: string[], onProgress?: (p: Progress) => void): Promise<void> {
  const colon = ref.lastIndexOf(':');
  const [repo, tag] = colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  const res = await open(c, 'POST', '/images/create', { fromSrc: '-', repo, tag, changes }, rootfsTar, {
    'content-type': 'application/x-tar',
    'transfer-encoding': 'chunked',
  });
  await followProgress(res, `import ${ref}`, onProgress);
}

export type ImageFacts = ImageInspect & { Size?: number; Created?: string };

export async function imageFacts(c: DockerClient, ref: string): Promise<ImageFacts | undefined> {
  try {
    return (await c.inspectImage(ref)) as ImageFacts;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function removeImage(c: DockerClient, ref: string): Promise<void> {
  const res = await open(c, 'DELETE', `/images/${encodeURIComponent(ref)}`, { force: true });
  const body = await readAll(res);
  if ((res.statusCode ?? 0) >= 400 && res.statusCode !== 404) throw fail(res.statusCode ?? 0, body, `remove image ${ref}`);
}

async function json<T>(c: DockerClient, method: string, path: string, q: Query = {}, body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const res = await open(c, method, path, q, payload, payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {});
  const buf = await readAll(res);
  if ((res.statusCode ?? 0) >= 400) throw fail(res.statusCode ?? 0, buf, `${method} ${path}`);
  return (buf.length === 0 ? undefined : JSON.parse(buf.toString('utf8'))) as T;
}

export type VolumeInfo = { Name: string; Mountpoint: string; Labels: Record<string, string> | null };

export function createVolume(c: DockerClient, name: string, labels: Record<string, string>): Promise<VolumeInfo> {
  return json(c, 'POST', '/volumes/create', {}, { Name: name, Labels: labels });
}

export async function listVolumes(c: DockerClient, labels: string[]): Promise<VolumeInfo[]> {
  const r = await json<{ Volumes: VolumeInfo[] | null }>(c, 'GET', '/volumes', { filters: JSON.stringify({ label: labels }) });
  return r.Volumes ?? [];
}

export async function removeVolume(c: DockerClient, name: string): Promise<void> {
  try {
    await json(c, 'DELETE', `/volumes/${encodeURIComponent(name)}`, { force: true });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Runs a short-lived container to completion and returns its exit code and output, removing it afterwards. */
export async function runOnce(
  c: DockerClient,
  name: string,
  config: Parameters<DockerClient['createContainer']>[1],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { Id } = await c.createContainer(name, config);
  try {
    await c.startContainer(Id);
    const w = await c.waitContainer(Id);
    const logs = await c.containerLogs(Id);
    return { code: w.StatusCode, ...logs };
  } finally {
    await c.removeContainer(Id, { force: true }).catch(() => undefined);
  }
}
