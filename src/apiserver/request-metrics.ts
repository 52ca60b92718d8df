import type { IncomingMessage, ServerResponse } from 'node:http';
import { cloudMetrics } from '../metrics/cloud.ts';
import { boundedLabel } from '../metrics/labels.ts';

/** The resource a path names (`pods`, `pods/status`, `deployments`), or '' for discovery and other paths. */
export function resourceOfPath(pathname: string): string {
  const segs = pathname.split('/').filter((s) => s !== '');
  let rest: string[];
  if (segs[0] === 'api') rest = segs.slice(2);
  else if (segs[0] === 'apis') rest = segs.slice(3);
  else return '';
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  if (rest[0] === 'watch') rest = rest.slice(1);
  const [plural, , sub] = rest;
  if (plural === undefined) return '';
  return sub === undefined ? boundedLabel(plural) : `${boundedLabel(plural)}/${boundedLabel(sub)}`;
}

/**
 * Times one request of the embedded API server from arrival to the end of its response. Watches are left out
 * (they last as long as the client wants, as kube-apiserver's latency metrics leave them out).
 */
export function observeApiRequest(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  if (/[?&]watch=(true|1)/.test(query) || /^\/apis?\/(?:[^/]+\/)*watch\//.test(pathname)) return;
  const end = cloudMetrics.apiServerRequests.startTimer({ verb: boundedLabel(req.method), resource: resourceOfPath(pathname) || 'none' });
  res.once('finish', () => end({ code: String(res.statusCode) }));
}
