// Makes the local base image kubeedge-ts/node-base:24-bookworm when it is missing (no registry needed):
//   node build/base/make-base-image.ts [--force]
// The same as `keadm image base`. Run it as root from the repository root.
import { DOCKER_ENDPOINT, DockerClient } from '../../src/containers/index.ts';
import { ensureBaseImage } from '../../src/keadm/image/base.ts';

const force = process.argv.includes('--force');
const endpoint = process.env['DOCKER_ENDPOINT'] ?? DOCKER_ENDPOINT;
try {
  const r = await ensureBaseImage({ docker: new DockerClient({ endpoint }), force, log: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(`${r.image}: ${r.built ? 'built' : 'present'}, ${(r.sizeBytes / 1e6).toFixed(1)} MB\n`);
} catch (err) {
  process.stderr.write(`make-base-image: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
