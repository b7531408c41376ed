// Wires wallet access onto the app: session tokens (read by the auth plugin), Sign-In with Ethereum,
// and, when the gateway's chain has a treasury, the deposit watcher and the payout processor, both
// run every WALLET_WATCH_INTERVAL_MS.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { SessionPrincipal } from '../accounts/principal.js';
import { AppError } from '../errors/app-error.js';
import { LOCAL_CHAIN_ID } from '../ocean/local-chain.js';
import type { ChainSetup } from '../ocean/chain-setup.js';
import { createDepositWatcher, type DepositWatcher } from './deposit-watcher.js';
import { createPayoutService, type PayoutService } from './payout-service.js';
import { createSessionTokens, resolveSessionSecret, type SessionTokens } from './session-tokens.js';
import { createSiweService, type SiweService } from './siwe-service.js';
import { createTreasury } from './treasury.js';
import { resolveWalletChain, type WalletChain } from './wallet-chain.js';

export interface WalletServices {
  sessions: SessionTokens;
  siwe: SiweService;
  /** Null with CHAIN=off or without a treasury key: deposits and payouts are then unavailable. */
  chain: WalletChain | null;
  deposits: DepositWatcher | null;
  payouts: PayoutService | null;
  /** Starts a pass of the payout processor now (after a request), when processing runs by itself. */
  kickPayouts(): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    wallet: WalletServices;
    /** Read by the auth plugin on routes with `config.session`. */
    walletSessions: { isSessionToken(token: string): boolean; authenticate(token: string): Promise<SessionPrincipal> };
  }
}

const SESSION_RATE_WINDOW_MS = 60_000;

/** The SIWE domain and origin: SIWE_DOMAIN / PUBLIC_BASE_URL, else the address the gateway listens on. */
export function siweOrigin(config: FastifyInstance['config']): { domain: string; origin: string } {
  const origin = config.publicBaseUrl ? new URL(config.publicBaseUrl).origin : `http://${config.host}:${config.port}`;
  return { domain: config.wallet.siweDomain ?? new URL(origin).host, origin };
}

export default fp(
  async function wallet(app: FastifyInstance, opts: { chain: ChainSetup | null; documentOnly?: boolean }) {
    const { config } = app;
    const secret = opts.documentOnly ? randomBytes(32).toString('hex') : resolveSessionSecret(config.wallet.sessionSecret, config.dataDir);
    const sessions = createSessionTokens({ secret, ttlSeconds: config.wallet.sessionTtlSeconds });
    const chain = opts.documentOnly ? null : resolveWalletChain(config, opts.chain);
    if (opts.chain && !chain) app.log.warn('wallet deposits and payouts are off: no treasury key (WALLET_TREASURY_KEY)');
    const siwe = createSiweService(
      { ...siweOrigin(config), chainId: opts.chain?.config.chainId ?? LOCAL_CHAIN_ID, nonceTtlSeconds: config.wallet.nonceTtlSeconds },
      { provider: chain?.provider ?? null },
    );
    const deposits = chain ? createDepositWatcher({ db: app.db, chain, log: app.log }) : null;
    const payouts =
      chain?.treasuryKey
        ? createPayoutService({
            db: app.db,
            chain,
            treasury: createTreasury({ privateKey: chain.treasuryKey, provider: chain.provider, chainId: chain.chainId }),
            minPayout: config.wallet.minPayout,
            log: app.log,
          })
        : null;

    const interval = config.wallet.watchIntervalMs;
    const runPayouts = () => payouts?.tick().catch((err) => app.log.warn({ err }, 'payout pass failed; retried on the next pass'));
    app.decorate('wallet', {
      sessions,
      siwe,
      chain,
      deposits,
      payouts,
      kickPayouts: () => {
        if (interval > 0) void runPayouts();
      },
    });
    app.decorate('walletSessions', {
      isSessionToken: sessions.isSessionToken,
      async authenticate(token: string) {
        const principal = await sessions.verify(token);
        const decision = await app.rateLimiter
          .hit(`session:${principal.accountId}`, config.wallet.keyRateLimitPerMinute, SESSION_RATE_WINDOW_MS)
          .catch(() => null);
        if (decision && !decision.allowed) {
          throw new AppError('rate_limited', `limit of ${config.wallet.keyRateLimitPerMinute} requests per minute per wallet session reached`, {
            headers: { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) },
          });
        }
        return principal;
      },
    });

    let timer: NodeJS.Timeout | undefined;
    if (chain && interval > 0) {
      timer = setInterval(() => {
        deposits?.tick().catch((err) => app.log.warn({ err }, 'deposit watcher pass failed; retried on the next pass'));
        void runPayouts();
      }, interval);
      timer.unref();
    }
    app.addHook('onClose', async () => {
      clearInterval(timer);
      // Let a pass in flight finish before the database closes under it.
      await Promise.all([deposits?.idle(), payouts?.idle()]);
      chain?.close();
    });
  },
  { name: 'wallet', dependencies: ['services'] },
);
