import { certDerToPem, issueKeyPair, keyDerToPem } from '../../src/pki/x509.ts';
import type { EdgeCerts } from '../../src/edge/edgehub/certificate/bootstrap.ts';
import type { Api } from '../lib/api.ts';

/**
 * One KubeEdge v1.15-style certificate for a whole fleet (O=kubeEdge, CN=kubeedge.io), signed with the cloud's
 * CA from kubeedge/casecret. The certificate service now names every certificate after its node, so a fleet
 * sharing one certificate needs this shared identity, which cloudcore accepts while shared certificates are
 * allowed (modules.cloudHub.authorization not enforced, the default).
 */
export async function sharedFleetCerts(api: Api): Promise<EdgeCerts> {
  const r = await api.request<{ data?: Record<string, string> }>('GET', '/api/v1/namespaces/kubeedge/secrets/casecret');
  const data = r.body?.data;
  if (r.status !== 200 || data?.['cadata'] === undefined || data['cakeydata'] === undefined) {
    throw new Error(`cannot read kubeedge/casecret (HTTP ${r.status}); a shared fleet certificate needs the cloud's CA`);
  }
  const ca = { certDer: Buffer.from(data['cadata'], 'base64'), keyDer: Buffer.from(data['cakeydata'], 'base64') };
  const kp = await issueKeyPair(ca, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 365 });
  return { caPem: certDerToPem(ca.certDer), certPem: certDerToPem(kp.certDer), keyPem: keyDerToPem(kp.keyDer), enrolled: false };
}
