import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { CriError, RuntimeUnavailableError, detectEngine, isNotFound, probeCri } from '../../../../src/containers/index.ts';
import { CriClient } from '../../../../src/containers/cri/index.ts';
import { criSkip, startTestContainerd, type TestContainerd } from '../../../helpers/containerd.ts';

const run = promisify(execFile);
const here = import.meta.dirname;

test("an endpoint where nothing listens fails with both probes' reasons", async () => {
  const missing = `unix://${join(tmpdir(), `ke-no-such-${process.pid}.sock`)}`;
  await assert.rejects(detectEngine(missing), (err: unknown) => {
    assert.ok(err instanceof RuntimeUnavailableError);
    assert.match(err.message, /neither a Docker engine .* nor a CRI runtime/);
    assert.match(err.message, /ENOENT/);
    return true;
  });
  await assert.rejects(probeCri(missing), RuntimeUnavailableError);
});

describe('CRI client against a real containerd', { skip: await criSkip(), concurrency: false }, () => {
  let cd: TestContainerd;
  before(async () => {
    cd = await startTestContainerd();
  });
  after(async () => {
    await cd?.stop();
  });

  test("detectEngine finds CRI on a containerd socket, with containerd's own version", async () => {
    const engine = await detectEngine(cd.endpoint);
    assert.deepEqual([engine.kind, engine.endpoint, engine.name, engine.apiVersion], ['cri', cd.endpoint, 'containerd', 'v1']);
    const { stdout } = await run('containerd', ['--version']);
    assert.ok(stdout.includes(engine.version), `${stdout} vs ${engine.version}`);
  });

  test("a call the runtime refuses is a CriError with containerd's words; a missing object reads as not found", async () => {
    const c = new CriClient({ endpoint: cd.endpoint });
    try {
      await assert.rejects(c.call('ContainerStatus', { container_id: 'no-such-container' }), (err: unknown) => {
        assert.ok(err instanceof CriError && isNotFound(err), String(err));
        assert.match(err.message, /no-such-container/);
        return true;
      });
    } finally {
      c.close();
    }
  });

  test('works from a single-file esbuild bundle run elsewhere (the schema travels inside)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ke-cri-bundle-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        `import { detectEngine } from ${JSON.stringify(join(here, '../../../../src/containers/index.ts'))};\nconsole.log(JSON.stringify(await detectEngine(process.argv[2])));\n`,
      );
      await build({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: join(dir, 'out.mjs'),
        logLevel: 'silent',
        banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      });
      const { stdout } = await run(process.execPath, [join(dir, 'out.mjs'), cd.endpoint], { cwd: dir });
      assert.deepEqual(Object.values(JSON.parse(stdout) as object).slice(0, 4), ['cri', cd.endpoint, cd.endpoint, 'containerd']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
