/** Read and validate cloudcore.yaml / edgecore.yaml. */
import { readFileSync } from 'node:fs';
import { cloudCoreSchema, type CloudCoreConfig } from './cloudcore.ts';
import { edgeCoreSchema, type EdgeCoreConfig } from './edgecore.ts';
import { configNotes } from './effects.ts';
import { ConfigError } from './errors.ts';
import { detectHost, type HostFacts } from './host.ts';
import { convertEdgeCoreV1alpha1, isEdgeCoreV1alpha1 } from './v1alpha1.ts';
import { parseWithSchema, type ParseResult } from './validate.ts';

export type ConfigKind = 'cloudcore' | 'edgecore';

export type LoadOptions = {
  /** Host facts for runtime defaults (advertiseAddress, hostnameOverride, edgeHub servers); detected when absent. */
  host?: HostFacts;
};

/** What to do about a missing or empty file. */
export function starterFix(kind: ConfigKind): string {
  return `pass --config FILE or create it; \`${kind} --minconfig > FILE\` writes a starting point`;
}

/**
 * Validate cloudcore.yaml text. `source` names the file in messages.
 * @example const { config, warnings } = parseCloudCoreConfig(text, '/etc/kubeedge/config/cloudcore.yaml')
 */
export function parseCloudCoreConfig(text: string, source: string, opts: LoadOptions = {}): ParseResult<CloudCoreConfig> {
  const schema = cloudCoreSchema(opts.host ?? detectHost());
  return parseWithSchema(text, source, schema, { fix: starterFix('cloudcore'), notes: (raw) => configNotes('cloudcore', raw, schema.parse({})) });
}

/** Validate edgecore.yaml text (v1alpha2, or the old v1alpha1 layout, which is converted). */
export function parseEdgeCoreConfig(text: string, source: string, opts: LoadOptions = {}): ParseResult<EdgeCoreConfig> {
  const schema = edgeCoreSchema(opts.host ?? detectHost());
  return parseWithSchema(text, source, schema, {
    fix: starterFix('edgecore'),
    notes: (raw) => configNotes('edgecore', raw, schema.parse({})),
    convert: (raw) => (isEdgeCoreV1alpha1(raw) ? convertEdgeCoreV1alpha1(raw) : undefined),
  });
}

function readConfigFile(path: string, kind: ConfigKind): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied (run as a user that can read it, or fix its mode)'
          : code === 'EISDIR'
            ? 'is a directory, expected a YAML file'
            : `cannot be read (${code ?? String(err)})`;
    throw new ConfigError(path, [{ path: '', message: `${path}: ${why}` }], code === 'ENOENT' ? starterFix(kind) : undefined, { cause: err });
  }
}

export function loadCloudCoreConfig(path: string, opts: LoadOptions = {}): ParseResult<CloudCoreConfig> {
  return parseCloudCoreConfig(readConfigFile(path, 'cloudcore'), path, opts);
}

export function loadEdgeCoreConfig(path: string, opts: LoadOptions = {}): ParseResult<EdgeCoreConfig> {
  return parseEdgeCoreConfig(readConfigFile(path, 'edgecore'), path, opts);
}
