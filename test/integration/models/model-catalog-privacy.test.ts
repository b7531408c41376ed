// The public model catalog shows a model's owner account id to its owner only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
let owner: Awaited<ReturnType<typeof createFundedAccount>>;
let stranger: Awaited<ReturnType<typeof createFundedAccount>>;
beforeAll(async () => {
  t = await createTestApp();
  owner = await createFundedAccount(t, { name: 'model owner' });
  stranger = await createFundedAccount(t, { name: 'someone else' });
  await registerTinyModel(t, 'owned-model', owner.account.id);
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

type ModelOut = { id: string; owner_account_id: string | null; owned_by_you?: boolean };

async function catalog(headers: Record<string, string> = {}) {
  const list = await t.app.inject({ method: 'GET', url: '/v1/models', headers });
  const one = await t.app.inject({ method: 'GET', url: '/v1/models/owned-model', headers });
  expect([list.statusCode, one.statusCode]).toEqual([200, 200]);
  const listed = (list.json() as { data: ModelOut[] }).data.find((m) => m.id === 'owned-model');
  return { listed, one: one.json() as ModelOut, bodies: list.body + one.body };
}

describe('model catalog privacy', () => {
  it('hides the owner account id from anonymous callers', async () => {
    const { listed, one, bodies } = await catalog();
    expect(listed).toMatchObject({ owner_account_id: null, owned_by_you: false });
    expect(one).toMatchObject({ owner_account_id: null, owned_by_you: false });
    expect(bodies).not.toContain(owner.account.id);
  });

  it("hides it from another tenant's key", async () => {
    const { listed, one, bodies } = await catalog(stranger.headers);
    expect(listed).toMatchObject({ owner_account_id: null, owned_by_you: false });
    expect(one).toMatchObject({ owner_account_id: null, owned_by_you: false });
    expect(bodies).not.toContain(owner.account.id);
  });

  it('shows the owner its own account id and that the model is its own', async () => {
    const { listed, one } = await catalog(owner.headers);
    expect(listed).toMatchObject({ owner_account_id: owner.account.id, owned_by_you: true });
    expect(one).toMatchObject({ owner_account_id: owner.account.id, owned_by_you: true });
  });

  it('answers 401 to a key that is sent but invalid, rather than ignoring it', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: 'Bearer ph_nope_nope' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });
});
