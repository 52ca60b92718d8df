// `npm test`: every test in one run of Node's test runner (it expands the globs): unit tests beside the code
// (src/**, and bench/** for the benchmarks' pure parts: statistics, the goals table) and the tests under test/:
// integration tests (test/integration/<src path>: sockets, servers, processes, engines) and whole-daemon end-to-end
// tests (test/*.test.ts). `npm run test:integration` runs `node scripts/test.ts integration`: only those under
// test/. Further arguments go to `node --test` (e.g. `npm test -- --test-name-pattern=edgehub`). Builds dist/ first
// when it is missing, since some end-to-end tests run the bundles.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SUITES: Record<string, string[]> = {
  all: ['src/**/*.test.ts', 'bench/**/*.test.ts', 'test/**/*.test.ts'],
  integration: ['test/**/*.test.ts'],
};

// In-process servers under test log at warn; daemons the tests start log to their own files. kubectl (run by
// tests and by keadm) keeps its discovery cache in a directory of this run instead of ~/.kube/cache.
const kubeCache = mkdtempSync(join(tmpdir(), 'ke-test-kubecache-'));
const env = { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', KUBECACHEDIR: kubeCache };

function run(args: string[]): number {
  return spawnSync(process.execPath, args, { stdio: 'inherit', env }).status ?? 1;
}

const argv = process.argv.slice(2);
const suite = argv[0] !== undefined && Object.hasOwn(SUITES, argv[0]) ? (argv.shift() as string) : 'all';
let status = existsSync('dist/cloudcore.mjs') ? 0 : run(['scripts/build.ts']);
if (status === 0) status = run(['--test', '--test-reporter=spec', '--test-concurrency=2', ...argv, ...(SUITES[suite] ?? [])]);
rmSync(kubeCache, { recursive: true, force: true });
process.exit(status);
