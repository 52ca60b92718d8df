import { ApiException, CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { KubeEdgeError } from '../../../core/errors.ts';

/**
 * Where cloudcore keeps its CA, server certificate and join token so that restarts and other replicas reuse
 * them (KubeEdge: Secrets casecret, cloudcoresecret, tokensecret in namespace kubeedge). Values are raw bytes;
 * the Kubernetes implementation base64-encodes them into `data` as the API requires.
 */
export type SecretStore = {
  get(ns: string, name: string): Promise<Record<string, Buffer> | undefined>;
  put(ns: string, name: string, data: Record<string, Buffer>): Promise<void>;
  ensureNamespace(ns: string): Promise<void>;
};

export class SecretStoreError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('KE_SECRET_STORE', message, context, cause === undefined ? {} : { cause });
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

function encode(data: Record<string, Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')]));
}

function decode(data: Record<string, string> | undefined): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

/** SecretStore over the Kubernetes API (a real cluster or the embedded API server). */
export function kubeSecretStore(kc: KubeConfig): SecretStore {
  const core = kc.makeApiClient(CoreV1Api);

  async function get(ns: string, name: string): Promise<Record<string, Buffer> | undefined> {
    try {
      const s = await core.readNamespacedSecret({ name, namespace: ns });
      return decode(s.data);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw new SecretStoreError(`reading secret ${ns}/${name} failed`, { ns, name, status: statusOf(err) }, err);
    }
  }

  async function put(ns: string, name: string, data: Record<string, Buffer>): Promise<void> {
    const body: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque', data: encode(data) };
    try {
      await core.createNamespacedSecret({ namespace: ns, body });
      return;
    } catch (err) {
      if (statusOf(err) !== 409) throw new SecretStoreError(`creating secret ${ns}/${name} failed`, { ns, name, status: statusOf(err) }, err);
    }
    // Exists: replace it, carrying the current resourceVersion; retry if someone else wrote in between.
    for (let attempt = 0; ; attempt++) {
      try {
        const current = await core.readNamespacedSecret({ name, namespace: ns });
        const rv = current.metadata?.resourceVersion;
        await core.replaceNamespacedSecret({
          name,
          namespace: ns,
          body: { ...body, metadata: { ...current.metadata, name, namespace: ns, ...(rv === undefined ? {} : { resourceVersion: rv }) } },
        });
        return;
      } catch (err) {
        if (statusOf(err) === 409 && attempt < 3) continue;
        throw new SecretStoreError(`replacing secret ${ns}/${name} failed`, { ns, name, status: statusOf(err) }, err);
      }
    }
  }

  async function ensureNamespace(ns: string): Promise<void> {
    try {
      await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
    } catch (err) {
      if (statusOf(err) === 409) return;
      throw new SecretStoreError(`creating namespace ${ns} failed`, { ns, status: statusOf(err) }, err);
    }
  }

  return { get, put, ensureNamespace };
}

/** A SecretStore in memory: for tests and for running cloudcore without persistence. */
export function memorySecretStore(): SecretStore & { namespaces: Set<string>; secrets: Map<string, Record<string, Buffer>> } {
  const namespaces = new Set<string>();
  const secrets = new Map<string, Record<string, Buffer>>();
  return {
    namespaces,
    secrets,
    async get(ns, name) {
      const s = secrets.get(`${ns}/${name}`);
      return s === undefined ? undefined : { ...s };
    },
    async put(ns, name, data) {
      if (!namespaces.has(ns)) throw new SecretStoreError(`namespace ${ns} does not exist`, { ns, name });
      secrets.set(`${ns}/${name}`, { ...data });
    },
    async ensureNamespace(ns) {
      namespaces.add(ns);
    },
  };
}
