import { RESOURCES, findResource, type ResourceDef } from './resources.ts';

export type Route =
  | { type: 'api' }
  | { type: 'apis' }
  | { type: 'groupVersion'; group: string; version: string }
  | { type: 'group'; group: string }
  | { type: 'resource'; def: ResourceDef; namespace?: string; name?: string; sub?: string; watchPath: boolean }
  | { type: 'unknown' };

/** Maps a path under /api or /apis to a resource; everything else (health, version) is handled before. */
export function route(pathname: string, defs: readonly ResourceDef[] = RESOURCES): Route {
  let segs: string[];
  try {
    segs = pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    return { type: 'unknown' };
  }
  let group: string;
  let rest: string[];
  let version: string | undefined;
  if (segs[0] === 'api') {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
    if (version === undefined) return { type: 'api' };
  } else if (segs[0] === 'apis') {
    if (segs[1] === undefined) return { type: 'apis' };
    group = segs[1];
    version = segs[2];
    if (version === undefined) return defs.some((r) => r.group === group) ? { type: 'group', group } : { type: 'unknown' };
    rest = segs.slice(3);
  } else return { type: 'unknown' };
  if (rest.length === 0) return { type: 'groupVersion', group, version };
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  // /namespaces/{ns}/{plural}/... unless {plural} is a namespace subresource (/namespaces/{name}/status).
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const def = findResource(group, version, rest[2] ?? '', defs);
    if (def?.namespaced) {
      return build(def, rest[1], rest[3], rest[4], rest.length > 5, watchPath);
    }
  }
  const def = findResource(group, version, rest[0] ?? '', defs);
  if (def === undefined) return { type: 'unknown' };
  if (def.namespaced && rest.length > 1) return { type: 'unknown' };
  return build(def, undefined, rest[1], rest[2], rest.length > 3, watchPath);
}

function build(def: ResourceDef, namespace: string | undefined, name: string | undefined, sub: string | undefined, extra: boolean, watchPath: boolean): Route {
  if (extra) return { type: 'unknown' };
  if (sub !== undefined && !def.subresources.includes(sub)) return { type: 'unknown' };
  return {
    type: 'resource',
    def,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(sub === undefined ? {} : { sub }),
    watchPath,
  };
}
