// `npm run demo`, the quick start's main job: cloudcore and an edge node in containers on this machine
// (`keadm up`), then a pod deployed to the edge through kubectl, serving a ConfigMap on a host port.
// Prepares the host first (Docker, kubectl: scripts/host-setup.sh). Run `npx keadm reset --force`
// to remove it all.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DockerClient } from '../src/containers/index.ts';
import { ensureBusyboxImage, SHELL_CHANGES } from '../src/keadm/image/busybox.ts';

const root = path.resolve(import.meta.dirname, '..');
const stateRoot = process.env['KUBEEDGE_TS_STATE'] ?? '/var/lib/kubeedge-ts';
const kubeconfig = path.join(stateRoot, 'cloud/etc/kubeconfig');
const node = 'edge-node-1';
const hostPort = Number(process.env['DEMO_PORT'] ?? 30080);
const image = 'kubeedge-ts/busybox:1';

function step(what: string): void {
  console.log(`\n== ${what}`);
}

function must(cmd: string, args: string[], okCodes = [0]): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  const code = r.status ?? 1;
  if (!okCodes.includes(code)) {
    console.error(`${cmd} ${args.join(' ')} failed (exit ${code})`);
    process.exit(1);
  }
  return code;
}

const kubectl = (args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });

if (!existsSync(path.join(root, 'dist/keadm.mjs'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}

step('host: Docker engine, kubectl (installed where missing)');
must('bash', [path.join(root, 'scripts/host-setup.sh')]);

step(`keadm up --edge-nodes 1 (state in ${stateRoot})`);
// Exit code 3: already up from an earlier run; keep it.
if (must(process.execPath, ['dist/keadm.mjs', 'up', '--edge-nodes', '1', '--state-root', stateRoot], [0, 3]) === 3) {
  console.log('already running; using it');
}

step(`a pod on ${node}`);
await ensureBusyboxImage(new DockerClient({}), image, SHELL_CHANGES, (l) => console.log(l));
const manifest = path.join(os.tmpdir(), 'kubeedge-ts-demo.yaml');
writeFileSync(
  manifest,
  `apiVersion: v1
kind: ConfigMap
metadata: {name: demo-page}
data:
  index.html: "Hello from ${node}, served by a pod that kubeedge-ts runs at the edge.\\n"
---
apiVersion: v1
kind: Pod
metadata: {name: demo-web, labels: {app: demo-web}}
spec:
  nodeName: ${node}
  containers:
  - name: web
    image: ${image}
    imagePullPolicy: IfNotPresent
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: [{containerPort: 8080, hostPort: ${hostPort}}]
    volumeMounts: [{name: page, mountPath: /www}]
  volumes:
  - name: page
    configMap: {name: demo-page}
`,
);
console.log(kubectl(['apply', '-f', manifest]).trim());
const deadline = Date.now() + 120_000;
let phase = '';
while (Date.now() < deadline) {
  phase = kubectl(['get', 'pod', 'demo-web', '-o', 'jsonpath={.status.phase}']).trim();
  if (phase === 'Running') break;
  await new Promise((r) => setTimeout(r, 1000));
}
if (phase !== 'Running') {
  console.error(`demo-web is ${phase || 'not scheduled'} after 120 s:\n${kubectl(['describe', 'pod', 'demo-web'])}`);
  process.exit(1);
}
console.log(kubectl(['get', 'nodes,pods', '-o', 'wide']));
const page = await fetch(`http://127.0.0.1:${hostPort}/`).then(
  (r) => r.text(),
  (e: unknown) => `(not answering: ${String(e)})`,
);
console.log(`curl http://127.0.0.1:${hostPort}/  ->  ${page.trim()}`);
console.log(`\nkubectl --kubeconfig ${kubeconfig} get pods -o wide\nnpx keadm reset --force   # removes the containers, volumes and state`);
