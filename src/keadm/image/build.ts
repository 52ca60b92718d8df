/**
 * `keadm image build`: every image (cloudcore, edgecore, the mappers) from the local build (dist/*.mjs + build/<kind>/Dockerfile), through the
 * Docker Engine API with a context made in-process. Only the bundles go into the context.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { KubeEdgeError } from '../../core/errors.ts';
import { VERSION } from '../../version.ts';
import { tarArchive, type TarEntry } from '../tar.ts';
import type { DockerClient } from '../../containers/index.ts';
import { BASE_IMAGE, PUBLIC_BASE_IMAGE, mb } from './base.ts';

export type ImageKind = 'cloudcore' | 'edgecore' | 'mapper-virtual' | 'mapper-modbus';
export const IMAGE_KINDS: readonly ImageKind[] = ['cloudcore', 'edgecore', 'mapper-virtual', 'mapper-modbus'];
/** The mappers keadm knows, by protocol; each is the image `kubeedge-ts/mapper-<protocol>`. */
export const MAPPER_PROTOCOLS = ['virtual', 'modbus'] as const;
export type MapperProtocol = (typeof MAPPER_PROTOCOLS)[number];
export const mapperKind = (p: MapperProtocol): ImageKind => `mapper-${p}`;

export class ImageBuildError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_IMAGE_BUILD', message, context, cause === undefined ? {} : { cause });
  }
}

export function imageRef(kind: ImageKind, tag: string = VERSION): string {
  return `kubeedge-ts/${kind}:${tag}`;
}

/** The directory holding build/edge/Dockerfile: upward from this file (sources or dist/), then the cwd. */
export function sourceRoot(start: string = import.meta.dirname): string {
  for (let d = start; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'build/edge/Dockerfile'))) return d;
    if (path.dirname(d) === d) break;
  }
  if (existsSync(path.join(process.cwd(), 'build/edge/Dockerfile'))) return process.cwd();
  throw new ImageBuildError('build/edge/Dockerfile not found: run keadm from the kubeedge-ts repository (or pass --source-dir)');
}

const dockerfileOf = (kind: ImageKind) => `build/${kind === 'cloudcore' ? 'cloud' : kind === 'edgecore' ? 'edge' : 'mapper'}/Dockerfile`;
/** Build arguments beyond the base image: a mapper image says which bundle it carries. */
const buildArgsOf = (kind: ImageKind): Record<string, string> => (kind.startsWith('mapper-') ? { MAPPER: kind.slice('mapper-'.length) } : {});

/** The build context: the Dockerfiles and the two bundles, nothing else (what .dockerignore keeps too). */
export function buildContext(root: string): Buffer {
  const entries: TarEntry[] = [
    { name: 'build', dir: true },
    { name: 'build/cloud', dir: true },
    { name: 'build/edge', dir: true },
    { name: 'build/mapper', dir: true },
    { name: 'dist', dir: true },
  ];
  const dockerfiles = new Set<string>();
  for (const kind of IMAGE_KINDS) {
    const bundle = path.join(root, 'dist', `${kind}.mjs`);
    if (!existsSync(bundle)) throw new ImageBuildError(`${bundle} is missing: run \`npm run build\` first`, { bundle });
    const dockerfile = dockerfileOf(kind);
    if (!dockerfiles.has(dockerfile)) entries.push({ name: dockerfile, data: readFileSync(path.join(root, dockerfile)) });
    dockerfiles.add(dockerfile);
    entries.push({ name: `dist/${kind}.mjs`, data: readFileSync(bundle), mode: 0o755, mtime: statSync(bundle).mtimeMs / 1000 });
  }
  return tarArchive(entries);
}

/** Label of each image: a digest of what it was built from (its bundle and Dockerfile), to tell a stale image. */
export const CONTENT_LABEL = 'io.kubeedge-ts.content';

/** The CONTENT_LABEL value an image of `kind` built now from `root` gets; undefined when the bundle is not built. */
export function contentDigest(root: string, kind: ImageKind): string | undefined {
  const bundle = path.join(root, 'dist', `${kind}.mjs`);
  if (!existsSync(bundle)) return undefined;
  const h = createHash('sha256');
  h.update(readFileSync(bundle));
  h.update(readFileSync(path.join(root, dockerfileOf(kind))));
  return h.digest('hex').slice(0, 32);
}

/** Our local base when it exists, else the public one (which needs a registry). */
export async function defaultBaseImage(docker: DockerClient): Promise<string> {
  return (await docker.imageFacts(BASE_IMAGE)) !== undefined ? BASE_IMAGE : PUBLIC_BASE_IMAGE;
}

export type BuiltImage = { kind: ImageKind; image: string; id: string; sizeBytes: number; seconds: number };

export type BuildImagesOptions = {
  docker: DockerClient;
  baseImage?: string;
  tag?: string;
  sourceDir?: string;
  kinds?: readonly ImageKind[];
  log?: (line: string) => void;
};

export async function buildImages(o: BuildImagesOptions): Promise<BuiltImage[]> {
  const log = o.log ?? (() => undefined);
  const root = o.sourceDir ?? sourceRoot();
  const base = o.baseImage ?? (await defaultBaseImage(o.docker));
  if ((await o.docker.imageFacts(base)) === undefined) {
    log(`base image ${base} is not present locally; Docker will try to pull it (run \`keadm image base\` to make one without a registry)`);
  }
  const context = buildContext(root);
  const out: BuiltImage[] = [];
  for (const kind of o.kinds ?? IMAGE_KINDS) {
    const image = imageRef(kind, o.tag);
    const started = performance.now();
    log(`building ${image} from ${dockerfileOf(kind)} on ${base} (context ${mb(context.length)})`);
    const id = await o.docker
      .buildImage(
        context,
        {
          tag: image,
          dockerfile: dockerfileOf(kind),
          buildArgs: { BASE_IMAGE: base, ...buildArgsOf(kind) },
          labels: {
            'io.kubeedge-ts.version': VERSION,
            'io.kubeedge-ts.component': kind,
            [CONTENT_LABEL]: contentDigest(root, kind) ?? '',
            'org.opencontainers.image.title': `kubeedge-ts ${kind}`,
          },
        },
        (p) => {
          const s = p['stream'];
          if (typeof s === 'string' && s.trim() !== '') log(`  ${s.trim()}`);
        },
      )
      .catch((err: unknown) => {
        throw new ImageBuildError(`building ${image} failed: ${err instanceof Error ? err.message : String(err)}`, { image, base }, err);
      });
    const facts = await o.docker.imageFacts(image);
    const seconds = (performance.now() - started) / 1000;
    const built = { kind, image, id, sizeBytes: facts?.Size ?? 0, seconds };
    log(`built ${image} in ${seconds.toFixed(1)} s: ${mb(built.sizeBytes)}`);
    out.push(built);
  }
  return out;
}
