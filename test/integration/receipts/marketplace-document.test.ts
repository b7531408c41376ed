// GET /.well-known/posthuman-marketplace.json without a chain: public, named after the host the
// client reached, and explicit (nulls) about the identities a chain-less gateway does not have.
// The chain case (addresses, the log NFT) is tested with the verifier in verify-cli.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMarketplaceDocument } from '../../../src/verifier/index.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

describe('GET /.well-known/posthuman-marketplace.json', () => {
  it('answers without credentials, naming the gateway as reached, with null chain identities when CHAIN=off', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/posthuman-marketplace.json', headers: { host: 'gw.example:8443' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      gateway_url: 'http://gw.example:8443',
      jwks_url: 'http://gw.example:8443/.well-known/jwks.json',
      chain_id: null,
      log_nft_address: null,
      anchoring_address: null,
      consumer_address: null,
      provider_address: null,
    });
    // What the gateway serves is what the verifier reads back as a pinned document.
    expect(parseMarketplaceDocument(res.json())).toEqual(res.json());
  });

  it('ignores credentials it does not need', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/posthuman-marketplace.json', headers: { authorization: 'Bearer nonsense' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().jwks_url).toMatch(/\/\.well-known\/jwks\.json$/);
  });
});
