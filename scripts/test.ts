// `npm test`: every test in one run of Node's test runner (it expands the globs): unit tests beside the code
// (src/**) and the tests under test/: integration tests (test/integration/<src path>: sockets, servers,
// processes, engines) and whole-daemon end-to-end tests (test/*.test.ts). `npm run test:integration` runs
// `node scripts/test.ts integration`: only those under test/. Further arguments go to `node --test`
// (e.g. `npm test -- --test-name-pattern=edgehub`). Builds dist/ first when it is missing, since some
// end-to-end tests run the bundles.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const SUITES: Record<string, string[]> = {
  all: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  integration: ['test/**/*.test.ts'],
};

// In-process servers under test log at warn; daemons the tests start log to their own files.
const env = { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' };

function run(args: string[]): number {
  return spawnSync(process.execPath, args, { stdio: 'inherit', env }).status ?? 1;
}

const argv = process.argv.slice(2);
const suite = argv[0] !== undefined && argv[0] in SUITES ? (argv.shift() as string) : 'all';
if (!existsSync('dist/cloudcore.mjs') && run(['scripts/build.ts']) !== 0) process.exit(1);
process.exit(run(['--test', '--test-reporter=spec', '--test-concurrency=2', ...argv, ...(SUITES[suite] ?? [])]));
