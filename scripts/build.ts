// Bundles each binary into one ESM file under dist/. No native addons are involved, so the same files run
// on every architecture; the images copy them as they are.
import { build } from 'esbuild';
import { chmod, mkdir, readFile, rm, symlink } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };
// One bundle per mapper: each image carries only its own protocol library.
const entries = ['cloudcore', 'edgecore', 'keadm', 'mapper-virtual', 'mapper-modbus'] as const;

// CommonJS dependencies inside an ESM bundle call require(); give them one.
const banner = [
  '#!/usr/bin/env node',
  "import { createRequire as __keCreateRequire } from 'node:module';",
  'const require = __keCreateRequire(import.meta.url);',
].join('\n');

const started = performance.now();
await Promise.all(
  entries.map(async (name) => {
    const outfile = `dist/${name}.mjs`;
    await build({
      entryPoints: [`src/cmd/${name}.ts`],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      sourcemap: 'linked',
      legalComments: 'external',
      banner: { js: banner },
      define: { 'process.env.KUBEEDGE_TS_VERSION': JSON.stringify(pkg.version) },
      logLevel: 'warning',
    });
    await chmod(outfile, 0o755);
  }),
);
console.log(`built ${entries.map((e) => `dist/${e}.mjs`).join(', ')} in ${Math.round(performance.now() - started)} ms`);

// `npx cloudcore` in the checkout: npm links no bins of the root package itself, so npx would install the checkout
// into its own cache (~/.npm/_npx, keyed by the path) and keep running that copy's bin list, which goes stale when a
// bin is added. Linked here, npx finds them in node_modules/.bin first.
await mkdir('node_modules/.bin', { recursive: true });
for (const [name, file] of Object.entries(pkg.bin)) {
  const link = `node_modules/.bin/${name}`;
  await rm(link, { force: true });
  await symlink(`../../${file}`, link);
}
