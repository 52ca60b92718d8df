// detectEngine at KubeEdge's literal default endpoint, unix:///run/containerd/containerd.sock. What answers there is
// the host's business, so each case runs in a private mount namespace with a fresh tmpfs over /run and puts there
// exactly the sockets it needs: dockerd's at /run/docker.sock (= /var/run/docker.sock), a private containerd's at
// the default path, both, or neither.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DOCKER_ENDPOINT, KUBEEDGE_DEFAULT_ENDPOINT, socketPathOf } from '../../../src/containers/index.ts';
import { criSkip, startTestContainerd, type TestContainerd } from '../../helpers/containerd.ts';
import { dockerSkip } from '../../helpers/docker.ts';
import { skipUnless } from '../../helpers/skip.ts';

const run = promisify(execFile);
const containers = path.resolve(import.meta.dirname, '../../../src/containers/index.ts');
const skip =
  skipUnless(spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0, 'unshare -m (root)') || (await dockerSkip()) || (await criSkip());

/** The sockets are first bound to files outside /run (which the tmpfs is about to hide), then back under it. */
const SCRIPT = `set -e
t="$KE_TMP"
[ -n "$KE_DOCKER" ] && : > "$t/docker.sock" && mount --bind "$KE_DOCKER" "$t/docker.sock"
mount -t tmpfs -o mode=0755 tmpfs /run
if [ -n "$KE_DOCKER" ]; then : > /run/docker.sock; mount --bind "$t/docker.sock" /run/docker.sock; fi
if [ -n "$KE_CONTAINERD" ]; then mkdir -p /run/containerd; : > /run/containerd/containerd.sock; mount --bind "$KE_CONTAINERD" /run/containerd/containerd.sock; fi
exec "$@"`;

type Outcome = { kind?: string; endpoint?: string; configured?: string; name?: string; error?: string; code?: string };

/** detectEngine(KubeEdge's default, fallback?) in a namespace with the given sockets. */
async function detectIn(o: { docker?: boolean; containerd?: string; fallback?: boolean }): Promise<Outcome> {
  const code = `import { detectEngine } from ${JSON.stringify(containers)};
try { console.log(JSON.stringify(await detectEngine(${JSON.stringify(KUBEEDGE_DEFAULT_ENDPOINT)}, { fallback: ${o.fallback ?? true} }))); }
catch (err) { console.log(JSON.stringify({ error: err.message, code: err.code })); }`;
  const env = { ...process.env, KE_TMP: tmp, KE_DOCKER: o.docker ? socketPathOf(DOCKER_ENDPOINT) : '', KE_CONTAINERD: o.containerd ?? '' };
  const { stdout } = await run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', SCRIPT, 'sh', process.execPath, '--input-type=module', '-e', code], {
    env,
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim()) as Outcome;
}

let tmp = '';

describe("detectEngine at KubeEdge's default endpoint", { skip, concurrency: false }, () => {
  let cd: TestContainerd;
  before(async () => {
    cd = await startTestContainerd();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'ke-detect-'));
  });
  after(async () => {
    await cd?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('only Docker answers: the default falls back to Docker, and says what was configured', async () => {
    const r = await detectIn({ docker: true });
    assert.deepEqual([r.kind, r.endpoint, r.configured], ['docker', DOCKER_ENDPOINT, KUBEEDGE_DEFAULT_ENDPOINT], JSON.stringify(r));
  });

  test('containerd answers at the default: CRI there, even with Docker beside it', async () => {
    for (const docker of [false, true]) {
      const r = await detectIn({ docker, containerd: cd.socket });
      assert.deepEqual([r.kind, r.endpoint, r.name], ['cri', KUBEEDGE_DEFAULT_ENDPOINT, 'containerd'], JSON.stringify(r));
    }
  });

  test('nothing answers, or the fallback is off: KE_RUNTIME_UNAVAILABLE naming the default endpoint', async () => {
    for (const o of [{}, { docker: true, fallback: false }]) {
      const r = await detectIn(o);
      assert.equal(r.code, 'KE_RUNTIME_UNAVAILABLE', JSON.stringify(r));
      assert.match(
        r.error ?? '',
        /container runtime at unix:\/\/\/run\/containerd\/containerd\.sock is unavailable: neither a Docker engine .* nor a CRI runtime/,
      );
    }
  });
});
