import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { getToken } from '../../src/keadm/gettoken.ts';
import { Proc } from './proc.ts';
import { sleep } from './sh.ts';

/** A free TCP port on `host` now (closed again before use). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Resolves when something accepts TCP connections at host:port, or false after `timeoutMs`. */
export async function waitListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(200);
  }
  return false;
}

/**
 * The cloud side: the API server as its own process (so it can be restarted alone) and cloudcore pointed at it
 * by kubeconfig, CloudHub listening on `hostIp` (the host end of the edges' veth pairs, reachable from the host
 * too, where the simulated edges run).
 */
export class ChaosCloud {
  readonly apiserver: Proc;
  readonly cloudcore: Proc;
  readonly hostIp: string;
  readonly dir: string;
  apiPort = 0;
  wsPort = 0;
  httpsPort = 0;
  token = '';

  constructor(dir: string, hostIp: string, bins: { cloudcore: string; apiserver: string }) {
    this.dir = dir;
    this.hostIp = hostIp;
    mkdirSync(dir, { recursive: true });
    this.apiserver = new Proc({
      name: 'apiserver',
      script: bins.apiserver,
      args: [], // set in start(), once the port is known
      logFile: path.join(dir, 'apiserver.log'),
    });
    this.cloudcore = new Proc({
      name: 'cloudcore',
      script: bins.cloudcore,
      args: ['--config', path.join(dir, 'cloudcore.yaml')],
      logFile: path.join(dir, 'cloudcore.log'),
    });
  }

  get adminKubeconfig(): string {
    return path.join(this.dir, 'kube', 'admin.conf');
  }

  async start(): Promise<void> {
    this.apiPort = await freePort();
    this.wsPort = await freePort(this.hostIp);
    this.httpsPort = await freePort(this.hostIp);
    const args = [String(this.apiPort), path.join(this.dir, 'apiserver-data'), this.adminKubeconfig];
    this.apiserver.setArgs(args);
    this.apiserver.start();
    if (!(await waitListening('127.0.0.1', this.apiPort, 60_000)) || !(await this.#waitFile(path.join(this.dir, 'kube', 'cloudcore.conf')))) {
      throw new Error(`the API server did not come up (see ${this.apiserver.logFile})`);
    }
    const d = this.dir;
    writeFileSync(
      path.join(d, 'cloudcore.yaml'),
      `kubeAPIConfig:
  kubeConfig: ${path.join(d, 'kube', 'cloudcore.conf')}
modules:
  cloudHub:
    advertiseAddress: [${this.hostIp}]
    nodeLimit: 1000
    tlsCAFile: ${d}/ca/rootCA.crt
    tlsCAKeyFile: ${d}/ca/rootCA.key
    tlsCertFile: ${d}/ca/server.crt
    tlsPrivateKeyFile: ${d}/ca/server.key
    unixsocket: {enable: false}
    websocket: {address: ${this.hostIp}, port: ${this.wsPort}}
    https: {address: ${this.hostIp}, port: ${this.httpsPort}}
  apiServer: {enable: false, dataDir: ${d}/unused-embedded, adminKubeConfig: ${d}/unused-embedded/admin.conf}
`,
    );
    this.cloudcore.start();
    const deadline = Date.now() + 90_000;
    while (this.token === '' && Date.now() < deadline) {
      this.token = await getToken({ kubeConfig: this.adminKubeconfig }).catch(() => '');
      if (this.token === '') await sleep(500);
    }
    if (this.token === '') throw new Error(`cloudcore made no join token (see ${this.cloudcore.logFile})`);
    if (!(await waitListening(this.hostIp, this.wsPort, 60_000))) throw new Error('CloudHub does not listen');
  }

  /** Resolves once cloudcore's CloudHub accepts connections again (false after `timeoutMs`). */
  cloudcoreUp(timeoutMs = 60_000): Promise<boolean> {
    return waitListening(this.hostIp, this.wsPort, timeoutMs);
  }

  apiserverUp(timeoutMs = 60_000): Promise<boolean> {
    return waitListening('127.0.0.1', this.apiPort, timeoutMs);
  }

  async #waitFile(f: string): Promise<boolean> {
    for (let i = 0; i < 300; i++) {
      if (existsSync(f)) return true;
      await sleep(200);
    }
    return false;
  }

  async stop(): Promise<void> {
    await this.cloudcore.stop();
    await this.apiserver.stop();
  }
}
