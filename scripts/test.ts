// `npm test`: unit tests beside the code and end-to-end tests under test/, in one run of Node's test runner
// (it expands the globs). Builds dist/ first when it is missing, since some end-to-end tests run the bundles.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// In-process servers under test log at warn; daemons the tests start log to their own files.
const env = { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' };

function run(args: string[]): number {
  return spawnSync(process.execPath, args, { stdio: 'inherit', env }).status ?? 1;
}

if (!existsSync('dist/cloudcore.mjs') && run(['scripts/build.ts']) !== 0) process.exit(1);
process.exit(run(['--test', '--test-reporter=spec', '--test-concurrency=2', ...process.argv.slice(2), 'src/**/*.test.ts', 'test/**/*.test.ts']));
