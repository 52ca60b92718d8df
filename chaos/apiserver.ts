// The API server on its own, as the chaos run restarts it apart from cloudcore (which reaches it by kubeconfig,
// as it would a real kube-apiserver): node chaos/apiserver.ts <port> <dataDir> <adminKubeConfig>
import { startApiServer } from '../src/apiserver/index.ts';
import { logger } from '../src/core/log.ts';

const [port, dataDir, adminKubeConfig] = process.argv.slice(2);
if (port === undefined || dataDir === undefined || adminKubeConfig === undefined) {
  process.stderr.write('usage: node chaos/apiserver.ts <port> <dataDir> <adminKubeConfig>\n');
  process.exit(2);
}
const log = logger('apiserver');
const s = await startApiServer({ address: '127.0.0.1', port: Number(port), dataDir, adminKubeConfig, log });
log.info({ url: s.url }, 'API server listening');
const stop = () => {
  void s.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
