import path from 'node:path';
import { build } from 'esbuild';
import { ROOT } from './proc.ts';

// CommonJS dependencies inside an ESM bundle call require(); give them one (as scripts/build.ts does).
const BANNER = ["import { createRequire as __keCreateRequire } from 'node:module';", 'const require = __keCreateRequire(import.meta.url);'].join('\n');

/**
 * Bundles the daemons the run starts again and again from the current sources into `outDir` (one file each): a
 * bundle starts in a fraction of the time the sources take to load, so a restart is over before the next fault
 * and the faults hit daemons that are doing work, not ones still loading modules.
 */
export async function bundleDaemons(outDir: string): Promise<{ cloudcore: string; edgecore: string; apiserver: string }> {
  const entries = { cloudcore: 'src/cmd/cloudcore.ts', edgecore: 'src/cmd/edgecore.ts', apiserver: 'chaos/apiserver.ts' };
  const out = { cloudcore: path.join(outDir, 'cloudcore.mjs'), edgecore: path.join(outDir, 'edgecore.mjs'), apiserver: path.join(outDir, 'apiserver.mjs') };
  await Promise.all(
    (Object.keys(entries) as Array<keyof typeof entries>).map((k) =>
      build({
        entryPoints: [path.join(ROOT, entries[k])],
        outfile: out[k],
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'esm',
        sourcemap: 'linked',
        banner: { js: BANNER },
        logLevel: 'warning',
      }),
    ),
  );
  return out;
}
