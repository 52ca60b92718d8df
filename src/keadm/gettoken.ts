import { loadKubeConfig } from '../kube/client.ts';
import { isNotFound, KubeRest, paths } from '../kube/rest.ts';

type Secret = { data?: Record<string, string> };

/** Reads the current join token from `kubeedge/tokensecret` (key `tokendata`), as KubeEdge's keadm does. */
export async function getToken(o: { kubeConfig: string }): Promise<string> {
  const kube = new KubeRest(loadKubeConfig({ kubeConfig: o.kubeConfig }));
  try {
    const secret = await kube.get<Secret>(paths.namespaced('kubeedge', 'secrets', 'tokensecret'));
    const data = secret.data?.['tokendata'];
    if (data === undefined || data === '') throw new Error('secret kubeedge/tokensecret has no tokendata');
    return Buffer.from(data, 'base64').toString('utf8');
  } catch (err) {
    if (isNotFound(err)) {
      throw new Error('no join token yet: secret kubeedge/tokensecret does not exist (is cloudcore running against this cluster?)', {
        cause: err,
      });
    }
    throw err;
  } finally {
    kube.close();
  }
}
