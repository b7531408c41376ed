// Wallet session tokens: issued for an account and address, refused when expired, tampered or foreign.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createSessionTokens, resolveSessionSecret } from '../../../src/wallet/session-tokens.js';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const tokens = createSessionTokens({ secret, ttlSeconds: 900 });
const who = { accountId: '6a1c3d1e-1f0e-4bb5-9f5c-8a2c9e7d4b10', address: '0x5c1E6D1e2Bf1C3cbD9E1aF4Ff7E0b8dC2A9F0E11' };

describe('wallet session tokens', () => {
  it('carry the account and address, and expire at the TTL or the message expiry, whichever is first', async () => {
    const { token, expiresAt } = await tokens.issue(who);
    expect(tokens.isSessionToken(token)).toBe(true);
    expect(await tokens.verify(token)).toEqual({ kind: 'session', ...who });
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 890_000);
    const sooner = new Date(Date.now() + 60_000);
    expect(Math.abs((await tokens.issue({ ...who, notAfter: sooner })).expiresAt.getTime() - sooner.getTime())).toBeLessThan(1000);
    expect(tokens.isSessionToken('ph_abcdefghijkl_secret')).toBe(false);
  });

  it('refuses expired, tampered and foreign tokens with a 401', async () => {
    const past = await tokens.issue({ ...who, notAfter: new Date(Date.now() - 5_000) });
    await expect(tokens.verify(past.token)).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/expired/) });
    const { token } = await tokens.issue(who);
    const [h, p] = token.split('.');
    const forged = await new SignJWT({ addr: who.address }).setProtectedHeader({ alg: 'HS256' }).setSubject(who.accountId).setExpirationTime('1h').sign(new TextEncoder().encode('another-secret-another-secret-another'));
    await expect(tokens.verify(forged)).rejects.toMatchObject({ status: 401 });
    await expect(tokens.verify(`${h}.${p}.AAAA`)).rejects.toMatchObject({ status: 401 });
    const otherDeployment = createSessionTokens({ secret: `${secret}-other`, ttlSeconds: 900 });
    await expect(otherDeployment.verify(token)).rejects.toMatchObject({ status: 401 });
  });

  it('generates the secret once into the data dir (mode 0600) unless one is configured', () => {
    const dir = mkdtempSync(join(tmpdir(), 'posthuman-session-'));
    const first = resolveSessionSecret(undefined, dir);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(resolveSessionSecret(undefined, dir)).toBe(first);
    expect(readFileSync(join(dir, 'wallet-session-secret'), 'utf8').trim()).toBe(first);
    expect(statSync(join(dir, 'wallet-session-secret')).mode & 0o777).toBe(0o600);
    expect(resolveSessionSecret(secret, dir)).toBe(secret);
  });
});
