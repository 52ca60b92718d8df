import { isAbsolute, join } from 'node:path';
import { CriError } from '../../../../containers/errors.ts';
import type { CriClient, CriContainerStatus } from '../../../../containers/cri/index.ts';
import type { LogOptions, StreamFlags, StreamingRuntime } from '../types.ts';
import { readCriLog } from './logs.ts';

/**
 * The kubelet API's streaming calls over CRI. Logs are read from the container's CRI log file (the runtime
 * writes it; ContainerStatus names it). Exec, attach and port-forward ask the runtime for a URL on its own
 * streaming server: edged proxies the client's upgrade there unchanged, as the kubelet does, because that
 * server already speaks the protocols the API server uses (SPDY/3.1, WebSocket channel protocols up to v4) and
 * runs the process in the container's namespaces. Only a v5 WebSocket client is bridged (server/spdy-upstream.ts).
 */
export class CriStreaming implements StreamingRuntime {
  readonly #client: CriClient;

  constructor(client: CriClient) {
    this.#client = client;
  }

  async #status(id: string): Promise<CriContainerStatus> {
    const r = await this.#client.call<{ status: CriContainerStatus | null }>('ContainerStatus', { container_id: id });
    if (!r.status) throw new CriError('ContainerStatus', 5, `container ${id} not found`);
    return r.status;
  }

  async logs(id: string, o: LogOptions, out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
    const st = await this.#status(id);
    // containerd reports the joined path; a runtime that reports the config's relative one gets the sandbox's directory.
    const path = isAbsolute(st.log_path) ? st.log_path : join(st.annotations['io.kubernetes.sandbox.log-directory'] ?? '/', st.log_path);
    await readCriLog(path, out, {
      ...(o.tailLines !== undefined ? { tailLines: o.tailLines } : {}),
      ...(o.since !== undefined ? { since: o.since } : {}),
      timestamps: o.timestamps,
      follow: o.follow,
      signal,
      running: async () => (await this.#status(id).catch(() => undefined))?.state === 'CONTAINER_RUNNING',
    });
  }

  async streamUrl(
    req:
      | { kind: 'exec'; id: string; cmd: string[]; flags: StreamFlags }
      | { kind: 'attach'; id: string; flags: StreamFlags }
      | { kind: 'portforward'; sandboxId: string },
  ): Promise<string> {
    if (req.kind === 'exec') {
      const f = req.flags;
      return (
        await this.#client.call<{ url: string }>('Exec', {
          container_id: req.id,
          cmd: req.cmd,
          tty: f.tty,
          stdin: f.stdin,
          stdout: f.stdout,
          stderr: f.stderr && !f.tty,
        })
      ).url;
    }
    if (req.kind === 'attach') {
      const f = req.flags;
      return (
        await this.#client.call<{ url: string }>('Attach', { container_id: req.id, tty: f.tty, stdin: f.stdin, stdout: f.stdout, stderr: f.stderr && !f.tty })
      ).url;
    }
    return (await this.#client.call<{ url: string }>('PortForward', { pod_sandbox_id: req.sandboxId, port: [] })).url;
  }
}
