/**
 * The edge's environment checks, shared by edgecore's start-up and `keadm doctor --edge`. Start-up runs only
 * the checks whose failure would break edgecore later; doctor adds the advisory ones.
 */
import os from 'node:os';
import path from 'node:path';
import type { EdgeCoreConfig } from '../../config/index.ts';
import { checkSamePathMounts } from './container.ts';
import { checkEngineSocket } from './engine.ts';
import { checkClockSkew, checkDiskSpace } from './host.ts';
import { checkDnsPort, checkSubnetRoutes } from './mesh.ts';
import { checkEventBus } from './mqtt.ts';
import { checkCapabilities, checkInterface, checkIptables, checkPort } from './network.ts';
import { EnvironmentCheckError, failures, ok, type CheckResult } from './types.ts';

export type EdgeCheckOptions = {
  /** Overrides the config's containerRuntimeEndpoint (doctor --runtime-endpoint). */
  runtimeEndpoint?: string;
  /** Doctor's extra checks: capabilities, disk, clock, ports. */
  thorough?: boolean;
  /** Ports our own containers hold (doctor). */
  ourPorts?: ReadonlySet<number>;
};

export async function edgeChecks(cfg: EdgeCoreConfig, o: EdgeCheckOptions = {}): Promise<CheckResult[]> {
  const edged = cfg.modules.edged;
  const mesh = cfg.modules.edgeMesh;
  const out: CheckResult[] = [];
  const endpoint = o.runtimeEndpoint ?? edged.tailoredKubeletConfig.containerRuntimeEndpoint;
  if (edged.enable || o.runtimeEndpoint !== undefined) {
    const { result, engine } = await checkEngineSocket(endpoint);
    out.push(result);
    if (engine !== undefined) {
      const dataDir = path.dirname(cfg.database.dataSource);
      out.push(...(await checkSamePathMounts(engine, [...new Set([edged.rootDirectory, dataDir])])));
    }
  }
  if (mesh.enable) {
    out.push(checkIptables(true));
    const iface = checkInterface('modules.edgeMesh.listenInterface', mesh.listenInterface);
    out.push(iface);
    out.push(checkSubnetRoutes(mesh.subNet));
    const addr = os.networkInterfaces()[mesh.listenInterface]?.find((a) => a.family === 'IPv4')?.address;
    if (iface.status === 'ok' && addr !== undefined) out.push(await checkDnsPort(addr, mesh.dnsPort, o.ourPorts));
  } else if (o.thorough === true) {
    out.push(checkIptables(false));
  }
  if (edged.customInterfaceName !== '') out.push(checkInterface('modules.edged.customInterfaceName', edged.customInterfaceName));
  if (o.thorough === true) {
    out.push(checkCapabilities(mesh.enable));
    if (mesh.enable) out.push(await checkPort(mesh.listenPort, 'modules.edgeMesh.listenPort', o.ourPorts));
    out.push(checkDiskSpace(path.dirname(cfg.database.dataSource)));
    if (edged.rootDirectory !== path.dirname(cfg.database.dataSource)) out.push(checkDiskSpace(edged.rootDirectory));
    out.push(checkClockSkew(cfg.modules.edgeHub.tlsCaFile));
    out.push(...(await checkEventBus(cfg.modules.eventBus, o.ourPorts)));
  }
  if (out.length === 0) out.push(ok('environment', 'nothing to check with this config'));
  return out;
}

/** Skippable as in KubeEdge: CHECK_EDGECORE_ENVIRONMENT=false. */
export function environmentChecksEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return (env['CHECK_EDGECORE_ENVIRONMENT'] ?? '').toLowerCase() !== 'false';
}

/**
 * edgecore's start-up: throws EnvironmentCheckError (one line per problem, each with its fix) when something
 * would make edgecore fail later; otherwise returns the results for the log.
 */
export async function assertEdgeEnvironment(cfg: EdgeCoreConfig, env: Readonly<Record<string, string | undefined>> = process.env): Promise<CheckResult[]> {
  if (!environmentChecksEnabled(env)) return [];
  const results = await edgeChecks(cfg);
  const failed = failures(results);
  if (failed.length > 0) throw new EnvironmentCheckError(failed);
  return results;
}
