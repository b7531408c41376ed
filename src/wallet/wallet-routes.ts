// Public wallet routes: what the chain side looks like (GET /v1/wallet), Sign-In with Ethereum (nonce,
// verify → session token), and binding a wallet to an account made by the operator.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getAddress } from 'ethers';
import { Type } from 'typebox';
import { accountPrincipal } from '../accounts/principal.js';
import { BODY_ERRORS, errorResponses, KEY_AUTH_ERRORS, Nullable, Uuid } from '../http/schemas.js';
import { clientRateLimit } from '../rate-limit/client-rate-limit.js';
import walletAccountRoutes from './wallet-account-routes.js';
import walletAdminRoutes from './wallet-admin-routes.js';
import { bindAddress, signInAccount } from './wallet-accounts.js';

const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$', description: 'An Ethereum address', examples: ['0x32E3c9A1f5b3d27C0b6a8e4F1d9c7B2a5E6f6Ee0'] });
const SignedMessage = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 4000, description: 'The EIP-4361 message, exactly as signed', examples: ['127.0.0.1:8080 wants you to sign in with your Ethereum account:\n0x32E3c9A1f5b3d27C0b6a8e4F1d9c7B2a5E6f6Ee0\n\nURI: http://127.0.0.1:8080\nVersion: 1\nChain ID: 8996\nNonce: 8f3k2m1q9z\nIssued At: 2026-11-27T10:51:42.123Z'] }),
    signature: Type.String({
      pattern: '^0x[0-9a-fA-F]{2,4000}$',
      description: 'The wallet\'s signature (EIP-191 personal_sign; any length for EIP-1271 contract wallets)',
      examples: ['0x4f1c9d…1b'],
    }),
  },
  { additionalProperties: false, title: 'SignedSiweMessage', examples: [{ message: '127.0.0.1:8080 wants you to sign in with your Ethereum account:\n0x32E3c9A1f5b3d27C0b6a8e4F1d9c7B2a5E6f6Ee0\n\nURI: http://127.0.0.1:8080\nVersion: 1\nChain ID: 8996\nNonce: 8f3k2m1q9z\nIssued At: 2026-11-27T10:51:42.123Z', signature: '0x4f1c9d…1b' }] },
);

const walletRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { wallet, config } = app;
  const limitClient = clientRateLimit(app, 'siwe', config.publicRateLimitPerMinute);
  const tokenInfo = () => wallet.chain?.tokens ?? [];

  app.get(
    '/v1/wallet',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getWalletInfo',
        tags: ['wallet'],
        summary: 'How to sign in with a wallet and buy credits on chain',
        description:
          'The chain and the SIWE domain to sign in on; the treasury address that deposits go to, the tokens it accepts and ' +
          'what each buys (micro-credits per whole token), and the confirmations a deposit needs. `deposits` is null when this ' +
          'gateway takes no payments on chain (CHAIN=off, or no treasury key).',
        response: {
          200: Type.Object({
            chain_id: Type.Integer(),
            siwe: Type.Object({ domain: Type.String(), uri: Type.String() }),
            deposits: Nullable(
              Type.Object({
                treasury: Address,
                confirmations: Type.Integer(),
                tokens: Type.Array(Type.Object({ symbol: Type.String(), address: Address, decimals: Type.Integer(), micro_credits_per_token: Type.String({ pattern: '^[0-9]+$' }) })),
                min_payout: Type.Integer({ description: 'Smallest payout, micro-credits' }),
              }),
            ),
          }, {
            title: 'WalletInfo',
            examples: [{ chain_id: 8996, siwe: { domain: '127.0.0.1:8080', uri: 'http://127.0.0.1:8080' }, deposits: null }],
          }),
          ...errorResponses([]),
        },
      },
    },
    async () => ({
      chain_id: wallet.siwe.settings.chainId,
      siwe: { domain: wallet.siwe.settings.domain, uri: wallet.siwe.settings.origin },
      deposits: wallet.chain
        ? {
            treasury: wallet.chain.treasuryAddress,
            confirmations: wallet.chain.confirmations,
            tokens: wallet.chain.tokens.map((t) => ({ symbol: t.symbol, address: t.address, decimals: t.decimals, micro_credits_per_token: t.microCreditsPerToken.toString() })),
            min_payout: Number(config.wallet.minPayout),
          }
        : null,
    }),
  );

  app.post(
    '/v1/auth/siwe/nonce',
    {
      config: { auth: 'none' },
      onRequest: limitClient,
      schema: {
        operationId: 'createSiweNonce',
        tags: ['wallet'],
        summary: 'A single-use nonce for a Sign-In with Ethereum message',
        description:
          'The nonce is valid for SIWE_NONCE_TTL_SECONDS and works once. Send `address` to get back the exact EIP-4361 ' +
          'message to sign (domain, URI, chain id, nonce, issued and expiry times filled in); or build your own with the ' +
          '`domain`, `uri` and `chain_id` answered here.',
        // No body at all is fine too: the nonce alone.
        body: Type.Union([Type.Object({ address: Type.Optional(Address) }, { additionalProperties: false }), Type.Null()], { examples: [{ address: '0x32E3c9A1f5b3d27C0b6a8e4F1d9c7B2a5E6f6Ee0' }] }),
        response: {
          201: Type.Object({
            nonce: Type.String(),
            expires_at: Type.String({ format: 'date-time' }),
            domain: Type.String(),
            uri: Type.String(),
            chain_id: Type.Integer(),
            message: Nullable(Type.String({ description: 'The message to sign, when `address` was sent' })),
          }),
          ...errorResponses([...BODY_ERRORS, 429]),
        },
      },
    },
    async (request, reply) => {
      const address = request.body?.address;
      const issued = await wallet.siwe.issueNonce(app.db, address ? getAddress(address.toLowerCase()) : undefined);
      const s = wallet.siwe.settings;
      return reply.code(201).send({
        nonce: issued.nonce,
        expires_at: issued.expiresAt.toISOString(),
        domain: s.domain,
        uri: s.origin,
        chain_id: s.chainId,
        message: issued.message ?? null,
      });
    },
  );

  app.post(
    '/v1/auth/siwe/verify',
    {
      config: { auth: 'none' },
      onRequest: limitClient,
      schema: {
        operationId: 'verifySiwe',
        tags: ['wallet'],
        summary: 'Sign in with a signed EIP-4361 message: the account bound to the address and a session token',
        description:
          'Checks the message\'s domain, URI, chain id, validity window and signature (an EOA\'s, or an EIP-1271 contract ' +
          'wallet\'s via isValidSignature on the chain), then consumes its nonce: a replayed message is a 401. The first ' +
          'sign-in of an address creates its account (no operator step) and credits any deposits it made before. The ' +
          'session token (`Authorization: Bearer <token>`) lasts WALLET_SESSION_TTL_SECONDS (never past the message\'s ' +
          'expiry) and manages the account: its keys, deposits and payouts.',
        body: SignedMessage,
        response: {
          200: Type.Object({
            token: Type.String({ description: 'Wallet session token (a JWT)' }),
            token_type: Type.Literal('Bearer'),
            expires_at: Type.String({ format: 'date-time' }),
            address: Address,
            account: Type.Object({ id: Uuid, name: Type.String(), created_at: Type.String({ format: 'date-time' }) }),
            created: Type.Boolean({ description: 'This sign-in created the account' }),
            claimed_deposits: Type.Integer({ description: 'Deposits made before the first sign-in, credited now' }),
          }),
          ...errorResponses([401, ...BODY_ERRORS, 429]),
        },
      },
    },
    async (request) => {
      const checked = await wallet.siwe.check(request.body.message, request.body.signature);
      const signedIn = await app.db.transaction(async (tx) => {
        await wallet.siwe.consumeNonce(tx, checked.nonce);
        return signInAccount(tx, checked.address, tokenInfo());
      });
      const session = await wallet.sessions.issue({ accountId: signedIn.account.id, address: checked.address, notAfter: checked.expirationTime });
      return {
        token: session.token,
        token_type: 'Bearer' as const,
        expires_at: session.expiresAt.toISOString(),
        address: checked.address,
        account: { id: signedIn.account.id, name: signedIn.account.name, created_at: signedIn.account.createdAt.toISOString() },
        created: signedIn.created,
        claimed_deposits: signedIn.claimedDeposits,
      };
    },
  );

  app.post(
    '/v1/account/wallet',
    {
      config: { auth: 'key', scope: 'keys' },
      schema: {
        operationId: 'bindAccountWallet',
        tags: ['wallet'],
        summary: 'Bind a wallet address to this account (an account made by the operator), proven by a signed SIWE message',
        description:
          'The same message and checks as POST /v1/auth/siwe/verify. An account has one address and an address one account ' +
          '(409 otherwise). Deposits the address made while unbound are credited to the account now; payouts go to it.',
        security: [{ apiKey: [] }],
        body: SignedMessage,
        response: {
          201: Type.Object({ address: Address, account_id: Uuid, claimed_deposits: Type.Integer() }),
          ...errorResponses([...KEY_AUTH_ERRORS, 409, ...BODY_ERRORS]),
        },
      },
    },
    async (request, reply) => {
      const { accountId } = accountPrincipal(request);
      const checked = await wallet.siwe.check(request.body.message, request.body.signature);
      const bound = await app.db.transaction(async (tx) => {
        await wallet.siwe.consumeNonce(tx, checked.nonce);
        return bindAddress(tx, accountId, checked.address, tokenInfo());
      });
      return reply.code(201).send({ address: bound.address, account_id: accountId, claimed_deposits: bound.claimedDeposits });
    },
  );

  await app.register(walletAccountRoutes);
  await app.register(walletAdminRoutes);
};

export default walletRoutes;
