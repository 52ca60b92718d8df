import { execFile } from 'node:child_process';
import { startTestServer } from './apiserver.ts';
import { kubectlPath } from './tools.ts';

/**
 * The API server a conformance test talks to: the embedded one (fresh, in-process) or, when
 * APISERVER_CONFORMANCE_KUBECONFIG names a kubeconfig, that cluster, so the same suite can be checked against a
 * real Kubernetes. Tests against a target leave nothing behind but what they apply on purpose (CRDs).
 */
export type Target = {
  kubeConfigPath: string;
  external: boolean;
  kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  kubectlOk(args: string[], stdin?: string): Promise<string>;
  cleanup(): Promise<void>;
};

export const KUBECTL_BIN = kubectlPath();

export async function conformanceTarget(): Promise<Target> {
  const external = process.env['APISERVER_CONFORMANCE_KUBECONFIG'];
  const server = external === undefined || external === '' ? await startTestServer() : undefined;
  const kubeConfigPath = server?.kubeConfigPath ?? String(external);
  const run = (args: string[], stdin?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(KUBECTL_BIN ?? 'kubectl', ['--kubeconfig', kubeConfigPath, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
      });
      child.stdin?.end(stdin ?? '');
    });
  return {
    kubeConfigPath,
    external: server === undefined,
    kubectl: run,
    async kubectlOk(args, stdin) {
      const r = await run(args, stdin);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    async cleanup() {
      await server?.cleanup();
    },
  };
}
