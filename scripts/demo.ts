// `npm run demo`: cloudcore (embedded API server) and one edgecore on this machine, from dist/, in a
// temporary directory. Waits for the node to be Ready, prints how to reach it, runs until Ctrl-C.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeedge-ts-demo-'));
const nodeName = process.env['DEMO_NODE_NAME'] ?? 'edge-demo-1';
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const children: ChildProcess[] = [];

function start(bin: string, config: string): ChildProcess {
  const log = path.join(dir, `${bin}.log`);
  const child = spawn(process.execPath, [`dist/${bin}.mjs`, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = (c: Buffer) => writeFileSync(log, c, { flag: 'a' });
  child.stdout?.on('data', out);
  child.stderr?.on('data', out);
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`${bin} exited with ${code}; see ${log}`);
      shutdown(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code: number): void {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 2000).unref();
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

function sh(args: string[]): string {
  try {
    return execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

async function until<T>(what: string, probe: () => T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) {
      console.error(`timed out waiting for ${what}; logs in ${dir}`);
      shutdown(1);
      throw new Error(what);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

writeFileSync(
  path.join(dir, 'cloudcore.yaml'),
  `apiVersion: cloudcore.config.kubeedge.io/v1alpha1
kind: CloudCore
modules:
  cloudHub:
    advertiseAddress: [127.0.0.1]
    tlsCAFile: ${dir}/ca/rootCA.crt
    tlsCAKeyFile: ${dir}/ca/rootCA.key
    tlsCertFile: ${dir}/certs/server.crt
    tlsPrivateKeyFile: ${dir}/certs/server.key
  apiServer:
    dataDir: ${dir}/apiserver
    adminKubeConfig: ${kubeconfig}
`,
);
console.log(`starting cloudcore (work directory ${dir})`);
start('cloudcore', path.join(dir, 'cloudcore.yaml'));
const token = await until('the join token', () => sh(['dist/keadm.mjs', 'gettoken', '--kube-config', kubeconfig]), 60_000);
console.log('cloudcore is up; join token issued');

writeFileSync(
  path.join(dir, 'edgecore.yaml'),
  `apiVersion: edgecore.config.kubeedge.io/v1alpha2
kind: EdgeCore
database:
  dataSource: ${dir}/edge/edgecore.db
modules:
  edged:
    hostnameOverride: ${nodeName}
  edgeHub:
    token: ${token}
    httpServer: https://127.0.0.1:10002
    websocket:
      server: 127.0.0.1:10000
    tlsCaFile: ${dir}/edge/ca/rootCA.crt
    tlsCertFile: ${dir}/edge/certs/server.crt
    tlsPrivateKeyFile: ${dir}/edge/certs/server.key
`,
);
console.log(`starting edgecore for node ${nodeName}`);
start('edgecore', path.join(dir, 'edgecore.yaml'));

const kubectl = (args: string[]) => {
  try {
    return execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};
await until(
  `node ${nodeName} Ready`,
  () => kubectl(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True',
  60_000,
);
console.log(kubectl(['get', 'nodes', '-o', 'wide']));
console.log(`node ${nodeName} is Ready. Use the cluster with:\n  kubectl --kubeconfig ${kubeconfig} get nodes\nCtrl-C stops cloudcore and edgecore.`);
