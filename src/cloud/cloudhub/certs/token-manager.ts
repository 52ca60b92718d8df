import { logger, type Logger } from '../../../core/log.ts';
import { createJoinToken } from '../../../pki/token.ts';
import type { KeyPairDer } from '../../../pki/x509.ts';
import { KUBEEDGE_NAMESPACE } from './cloud-pki.ts';
import type { SecretStore } from './secret-store.ts';

/** KubeEdge's token secret; `keadm gettoken` and edgemark read it. */
export const TOKEN_SECRET = { name: 'tokensecret', key: 'tokendata' } as const;

export type TokenManagerOptions = {
  store: SecretStore;
  ca: KeyPairDer;
  /** cloudHub.tokenRefreshDuration, hours (KubeEdge default 12); each token lives twice as long. */
  refreshHours: number;
  log?: Logger;
};

export type TokenManager = {
  /** The newest join token. */
  current(): string;
  /** Mint and store a new token now. */
  refresh(): Promise<string>;
  stop(): void;
};

/**
 * Mints the join token, writes it to kubeedge/tokensecret and renews it every refreshHours. Because a token
 * lives 2 x refreshHours, the one an operator copied is always good for at least refreshHours.
 */
export async function startTokenManager(o: TokenManagerOptions): Promise<TokenManager> {
  const log = o.log ?? logger('cloudhub-token');
  let token = '';

  async function refresh(): Promise<string> {
    const next = await createJoinToken(o.ca, o.refreshHours);
    await o.store.put(KUBEEDGE_NAMESPACE, TOKEN_SECRET.name, { [TOKEN_SECRET.key]: Buffer.from(next) });
    token = next;
    return next;
  }

  await o.store.ensureNamespace(KUBEEDGE_NAMESPACE);
  await refresh();
  log.info({ refreshHours: o.refreshHours }, 'join token created');

  // setInterval caps at 2^31-1 ms (~24.8 days); longer periods would fire immediately, so clamp.
  const periodMs = Math.min(Math.max(o.refreshHours * 3_600_000, 1000), 2 ** 31 - 1);
  const timer = setInterval(() => {
    refresh().then(
      () => log.info('join token refreshed'),
      // Keep serving the old token; it is valid for another refreshHours at least.
      (err: unknown) => log.error({ err }, 'join token refresh failed'),
    );
  }, periodMs);
  timer.unref();

  return {
    current: () => token,
    refresh,
    stop: () => clearInterval(timer),
  };
}
