// Lineage royalties end to end: infer jobs on three generations of models run through the real queue
// and worker, and every book (consumer, owners' earnings, marketplace) moves by exactly what the rule
// in README "Revenue and lineage royalties" says, to the micro-credit, with every transaction balanced.
import { sql } from 'drizzle-orm';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobCost, type ModelPrices } from '../../../src/jobs/job-pricing.js';
import { modelAncestors, modelLineages } from '../../../src/models/model-lineage.js';
import { registerModel } from '../../../src/models/model-registration.js';
import { createFundedAccount, createTestApp, type TestApp } from '../../helpers/test-app.js';

// A fee other than the default, so the test also shows MARKETPLACE_FEE_BPS reaching the worker.
const FEE_BPS = 3_000n;
let t: TestApp;
beforeAll(async () => {
  // The worker runs in this process (on BullMQ and Redis), with the gateway's configuration.
  t = await createTestApp({ WORKER_IN_PROCESS: 'true', MARKETPLACE_FEE_BPS: FEE_BPS.toString() });
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

interface Owned {
  id: string;
  owner: string | null;
  royaltyBps: number;
  prices: ModelPrices;
}

const json = (res: { body: string }) => JSON.parse(res.body);
const rows = async <T>(query: ReturnType<typeof sql>) => ((await t.app.db.execute(query)) as unknown as { rows: T[] }).rows;

async function addModel(id: string, parent: string | null, owner: string | null, royaltyBps: number, prices: ModelPrices): Promise<Owned> {
  await registerModel(t.app.db, t.config.dataDir, {
    id,
    sourceDir: inject('tinyModelDir'),
    ...prices,
    ownerAccountId: owner,
    parentModelId: parent,
    royaltyBps,
  });
  return { id, owner, royaltyBps, prices };
}

async function owner(name: string): Promise<string> {
  return (await createFundedAccount(t, { name })).account.id;
}

/**
 * The rule, written out again here (not imported) so the test checks the code against the
 * documentation: returns what each account's earnings and the marketplace gain from one job.
 */
function expectedSplit(cost: bigint, model: Owned, ancestors: Owned[]): { marketplace: bigint; earnings: Map<string, bigint> } {
  const earnings = new Map<string, bigint>();
  const add = (account: string, amount: bigint) => earnings.set(account, (earnings.get(account) ?? 0n) + amount);
  if (model.owner === null) return { marketplace: cost, earnings };
  const owners = (cost * (10_000n - FEE_BPS)) / 10_000n;
  let marketplace = cost - owners;
  const cap = owners / 2n;
  let paid = 0n;
  for (const a of ancestors.slice(0, 8)) {
    const due = (owners * BigInt(a.royaltyBps)) / 10_000n;
    const share = due < cap - paid ? due : cap - paid;
    paid += share;
    if (a.owner === null) marketplace += share;
    else add(a.owner, share);
  }
  add(model.owner, owners - paid);
  return { marketplace, earnings };
}

async function marketplaceBalance(): Promise<bigint> {
  const [row] = await rows<{ balance: string }>(sql`SELECT balance::text AS balance FROM ledger_books WHERE code = 'system:marketplace'`);
  return BigInt(row?.balance ?? 0);
}

async function earnings(accounts: string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const a of accounts) out.set(a, (await t.app.ledger.balances(a)).earnings);
  return out;
}

async function ledgerInvariants() {
  const unbalanced = await rows(sql`SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount) <> 0`);
  const drift = await rows(sql`
    SELECT b.id FROM ledger_books b LEFT JOIN ledger_entries e ON e.book_id = b.id
    GROUP BY b.id, b.balance HAVING b.balance <> COALESCE(SUM(e.amount), 0)`);
  const [total] = await rows<{ total: string }>(sql`SELECT COALESCE(SUM(amount), 0)::text AS total FROM ledger_entries`);
  const negative = await rows(sql`SELECT id FROM ledger_books WHERE NOT allow_negative AND balance < 0`);
  return { unbalanced: unbalanced.length, drift: drift.length, total: total.total, negative: negative.length };
}

/** Runs one infer job to the end and returns what it cost, checked against the model's prices. */
async function infer(headers: Record<string, string>, model: Owned, input: string): Promise<bigint> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/infer',
    headers,
    payload: { model: model.id, input, parameters: { max_new_tokens: 6 } },
  });
  expect(res.statusCode, res.body).toBe(200);
  const job = json(res);
  expect(job.status).toBe('succeeded');
  const cost = BigInt(job.cost);
  expect(cost).toBe(jobCost(model.prices, job.usage.input_tokens + job.usage.output_tokens));
  return cost;
}

/** Runs `jobs` (model, input) at once and checks every book against the rule. */
async function runAndCheck(
  consumer: { id: string; headers: Record<string, string> },
  jobs: [Owned, string][],
  lineage: Map<string, Owned[]>,
  accounts: string[],
) {
  const before = { consumer: await t.app.ledger.balances(consumer.id), marketplace: await marketplaceBalance(), earnings: await earnings(accounts) };
  const costs = await Promise.all(jobs.map(([model, input]) => infer(consumer.headers, model, input)));
  let spent = 0n;
  let toMarketplace = 0n;
  const gained = new Map<string, bigint>(accounts.map((a) => [a, 0n]));
  jobs.forEach(([model], i) => {
    const split = expectedSplit(costs[i], model, lineage.get(model.id) ?? []);
    spent += costs[i];
    toMarketplace += split.marketplace;
    for (const [account, amount] of split.earnings) gained.set(account, (gained.get(account) ?? 0n) + amount);
  });
  const after = { consumer: await t.app.ledger.balances(consumer.id), marketplace: await marketplaceBalance(), earnings: await earnings(accounts) };
  expect(after.consumer.available).toBe(before.consumer.available - spent);
  expect(after.consumer.held).toBe(0n);
  expect(after.marketplace - before.marketplace).toBe(toMarketplace);
  for (const a of accounts) expect((after.earnings.get(a) ?? 0n) - (before.earnings.get(a) ?? 0n), a).toBe(gained.get(a));
  // Conservation: what the consumer paid is exactly what the marketplace and the owners received.
  const earned = [...gained.values()].reduce((s, v) => s + v, 0n);
  expect(toMarketplace + earned).toBe(spent);
  expect(await ledgerInvariants()).toEqual({ unbalanced: 0, drift: 0, total: '0', negative: 0 });
  return { costs, spent, toMarketplace, gained };
}

describe('lineage royalties', () => {
  let a: string;
  let b: string;
  let c: string;
  let A: Owned;
  let B: Owned;
  let C: Owned;
  let lineage: Map<string, Owned[]>;
  let consumer: { id: string; headers: Record<string, string> };

  beforeAll(async () => {
    [a, b, c] = [await owner('owner a'), await owner('owner b'), await owner('owner c')];
    // Prices chosen so that every floor in the rule actually rounds.
    A = await addModel('gen-a', null, a, 1_000, { pricePerJob: 1_001n, pricePer1kTokens: 2_003n });
    B = await addModel('gen-b', 'gen-a', b, 500, { pricePerJob: 1_507n, pricePer1kTokens: 3_001n });
    C = await addModel('gen-c', 'gen-b', c, 0, { pricePerJob: 2_011n, pricePer1kTokens: 5_003n });
    lineage = new Map([
      ['gen-a', []],
      ['gen-b', [A]],
      ['gen-c', [B, A]],
    ]);
    const funded = await createFundedAccount(t, { name: 'consumer', credits: 100_000_000 });
    consumer = { id: funded.account.id, headers: funded.headers };
  });

  it('reads the lineage nearest first and shows it, with the royalty, in the catalog', async () => {
    expect((await modelAncestors(t.app.db, 'gen-c')).map((x) => [x.modelId, x.ownerAccountId, x.royaltyBps, x.depth])).toEqual([
      ['gen-b', b, 500, 1],
      ['gen-a', a, 1_000, 2],
    ]);
    expect(await modelAncestors(t.app.db, 'gen-a')).toEqual([]);
    expect(await modelAncestors(t.app.db, 'gen-c', 1)).toHaveLength(1);
    const one = json(await t.app.inject({ method: 'GET', url: '/v1/models/gen-c' }));
    expect(one).toMatchObject({ id: 'gen-c', parent_model_id: 'gen-b', royalty_bps: 0, lineage: ['gen-b', 'gen-a'] });
    const all = json(await t.app.inject({ method: 'GET', url: '/v1/models' })).data as { id: string; lineage: string[]; royalty_bps: number }[];
    expect(all.filter((m) => m.id.startsWith('gen-')).map((m) => [m.id, m.royalty_bps, m.lineage])).toEqual([
      ['gen-a', 1_000, []],
      ['gen-b', 500, ['gen-a']],
      ['gen-c', 0, ['gen-b', 'gen-a']],
    ]);
  });

  it('pays the fee, each ancestor its royalty and the owner the rest, on C, B and A, to the micro-credit', async () => {
    for (const [model, input] of [
      [C, 'The third generation'],
      [B, 'The second generation speaks'],
      [A, 'First'],
    ] as [Owned, string][]) {
      await runAndCheck(consumer, [[model, input]], lineage, [a, b, c]);
    }
  });

  it('a job on C worked by hand: every part exactly as the rule computes it', async () => {
    const { costs, toMarketplace, gained } = await runAndCheck(consumer, [[C, 'Once upon a time']], lineage, [a, b, c]);
    const cost = costs[0];
    const owners = (cost * 7_000n) / 10_000n;
    expect(toMarketplace).toBe(cost - owners);
    expect(gained.get(b)).toBe((owners * 500n) / 10_000n);
    expect(gained.get(a)).toBe((owners * 1_000n) / 10_000n);
    expect(gained.get(c)).toBe(owners - (owners * 500n) / 10_000n - (owners * 1_000n) / 10_000n);
    // One settle transaction: the hold out, the change back, the marketplace and three earnings books in.
    const [settle] = await rows<{ entries: number; captured: string }>(sql`
      SELECT count(*)::int AS entries, SUM(CASE WHEN b.kind IN ('marketplace', 'earnings') THEN e.amount ELSE 0 END)::text AS captured
      FROM ledger_entries e JOIN ledger_books b ON b.id = e.book_id
      WHERE e.transaction_id = (SELECT id FROM ledger_transactions WHERE kind = 'settle' ORDER BY created_at DESC, id DESC LIMIT 1)`);
    expect(BigInt(settle.captured)).toBe(cost);
  });

  it('several jobs on C (and B) at once: the totals still match to the micro-credit', async () => {
    const jobs: [Owned, string][] = Array.from({ length: 8 }, (_, i) => [i % 4 === 3 ? B : C, `concurrent job number ${i} ${'x'.repeat(i)}`]);
    const { spent } = await runAndCheck(consumer, jobs, lineage, [a, b, c]);
    expect(spent > 0n).toBe(true);
  });

  it('the cap binds: three ancestors at 20 % get 20 %, 20 % and 10 % of the owners’ part, the fourth nothing', async () => {
    const [d0, d1, d2, d3, x] = [await owner('d0'), await owner('d1'), await owner('d2'), await owner('d3'), await owner('x')];
    const prices = { pricePerJob: 3_333n, pricePer1kTokens: 7_777n };
    const D0 = await addModel('cap-0', null, d0, 2_000, prices);
    const D1 = await addModel('cap-1', 'cap-0', d1, 2_000, prices);
    const D2 = await addModel('cap-2', 'cap-1', d2, 2_000, prices);
    const D3 = await addModel('cap-3', 'cap-2', d3, 2_000, prices);
    const X = await addModel('cap-x', 'cap-3', x, 0, prices);
    const capLineage = new Map([['cap-x', [D3, D2, D1, D0]]]);
    const { costs, gained } = await runAndCheck(consumer, [[X, 'capped lineage']], capLineage, [d0, d1, d2, d3, x]);
    const owners = (costs[0] * 7_000n) / 10_000n;
    const fifth = (owners * 2_000n) / 10_000n;
    expect(gained.get(d3)).toBe(fifth);
    expect(gained.get(d2)).toBe(fifth);
    expect(gained.get(d1)).toBe(owners / 2n - 2n * fifth);
    expect(gained.get(d0)).toBe(0n);
    expect(gained.get(x)).toBe(owners - owners / 2n);
  });

  it('an ownerless ancestor’s share goes to the marketplace; an ownerless model pays it everything', async () => {
    const [p, q] = [await owner('p'), await owner('q')];
    const prices = { pricePerJob: 1_234n, pricePer1kTokens: 4_321n };
    const G = await addModel('orphan-g', null, p, 1_500, prices);
    const P = await addModel('orphan-p', 'orphan-g', null, 2_000, prices);
    const Q = await addModel('orphan-q', 'orphan-p', q, 0, prices);
    const orphanLineage = new Map([
      ['orphan-q', [P, G]],
      ['orphan-p', [G]],
    ]);
    await runAndCheck(consumer, [[Q, 'owned child of an ownerless parent']], orphanLineage, [p, q]);
    const { toMarketplace, spent, gained } = await runAndCheck(consumer, [[P, 'ownerless model']], orphanLineage, [p, q]);
    expect(toMarketplace).toBe(spent);
    expect(gained.get(p)).toBe(0n);
  });

  it('a cycle or a missing parent ends the walk', async () => {
    const prices = { pricePerJob: 1n, pricePer1kTokens: 1n };
    await addModel('loop-x', 'loop-y', a, 100, prices);
    await addModel('loop-y', 'loop-x', b, 100, prices);
    await addModel('loop-self', 'loop-self', c, 100, prices);
    await addModel('lost-child', 'never-registered', c, 100, prices);
    const lineages = await modelLineages(t.app.db, ['loop-x', 'loop-y', 'loop-self', 'lost-child', 'no-such-model']);
    const ids = Object.fromEntries([...lineages].map(([id, ancestors]) => [id, ancestors.map((m) => m.modelId)]));
    expect(ids).toEqual({ 'loop-x': ['loop-y'], 'loop-y': ['loop-x'], 'loop-self': [], 'lost-child': [], 'no-such-model': [] });
  });

  it('publishing takes a royalty of 0..2000 basis points and shows it', async () => {
    const path = inject('tinyModelDir');
    const published = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/models',
      headers: t.operatorHeaders,
      payload: { id: 'royal', path, price_per_job: 10, price_per_1k_tokens: 10, owner_account_id: a, royalty_bps: 1_500 },
    });
    expect(published.statusCode, published.body).toBe(201);
    expect(json(published)).toMatchObject({ id: 'royal', royalty_bps: 1_500, lineage: [], parent_model_id: null });
    const plain = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/models',
      headers: t.operatorHeaders,
      payload: { id: 'plain', path, price_per_job: 10, price_per_1k_tokens: 10 },
    });
    expect(json(plain)).toMatchObject({ royalty_bps: 0 });
    const tooMuch = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/models',
      headers: t.operatorHeaders,
      payload: { id: 'greedy', path, price_per_job: 10, price_per_1k_tokens: 10, royalty_bps: 2_001 },
    });
    expect(tooMuch.statusCode).toBe(400);
    expect(json(tooMuch).field).toBe('body.royalty_bps');
  });
});
