// Fine-tuning end to end on the real parts: gateway → Postgres → BullMQ on Redis → a worker process
// that trains with the project's trainer → the derived model registered, published on chain with its
// parent, served for infer and evaluate; dataset owners paid in the capture; cancel charges steps run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interface, keccak256, toUtf8Bytes, toUtf8String } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createAuditHandler } from '../../../src/audits/audit-runner.js';
import { insertAudit } from '../../../src/audits/audit-service.js';
import { audits } from '../../../src/audits/audits-schema.js';
import { createEngineRegistry } from '../../../src/jobs/engine-registry.js';
import { jobCost } from '../../../src/jobs/job-pricing.js';
import { jobs } from '../../../src/jobs/jobs-schema.js';
import { DEFAULT_MODEL_PRICES } from '../../../src/models/model-registration.js';
import type { ModelRow } from '../../../src/models/model-repository.js';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { decodeReceipt, verifyReceiptSignature } from '../../../src/receipts/index.js';
import type { RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually, startWorker, stopWorker } from '../../helpers/worker-process.js';

let t: TestApp;
let ocean: EmbeddedOcean;
let parent: ModelRow;
let worker: RunningProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-finetune-'));

const json = (res: { body: string }) => JSON.parse(res.body);
const CONTEXT = 128;
/** A text the tiny random model does not know and can learn in a few steps: one sentence, repeated. */
const TRAINING_TEXT = 'The lighthouse keeper counts the ships that pass the rocky northern cape every evening. '.repeat(60);

beforeAll(async () => {
  ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  t = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', AUDIT_FRACTION: '0' }, undefined, {
    mode: 'embedded',
    config: ocean.config,
    stop: () => ocean.stop(),
  });
  parent = await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t));
  worker = await startWorker(t, { CHAIN: 'on', CHAIN_RPC_URL: ocean.chain.rpcUrl, WORKER_THREADS: '1', AUDIT_FRACTION: '0' });
}, 180_000);
afterAll(async () => {
  await stopWorker(worker);
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
  await ocean?.stop();
});

const finetune = (headers: Record<string, string>, payload: object) => t.app.inject({ method: 'POST', url: '/v1/finetune', headers, payload });
const getJob = async (headers: Record<string, string>, id: string) => json(await t.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers }));
const finalJob = (headers: Record<string, string>, id: string) =>
  eventually(async () => {
    const job = await getJob(headers, id);
    return ['succeeded', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  }, 240_000, 250);
const balanceOf = async (headers: Record<string, string>) => json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }));

async function uploadDataset(headers: Record<string, string>, text: string, query: string) {
  const res = await t.app.inject({ method: 'POST', url: `/v1/datasets?${query}`, headers: { ...headers, 'content-type': 'text/plain' }, payload: text });
  expect(res.statusCode, res.body).toBe(201);
  return json(res) as { id: string; sha256: string };
}

// Training, publishing and serving on a shared 2-core machine: generous time, never asserted.
describe('POST /v1/finetune', { timeout: 300_000 }, () => {
  it('trains, lowers the loss, publishes the derived model with its parent, pays the dataset owner, and serves the new model', async () => {
    const owner = await createFundedAccount(t, { name: 'data owner' });
    const dataset = await uploadDataset(owner.headers, TRAINING_TEXT, 'name=lighthouse&price_per_job=7000&listed=true');
    const trainer = await createFundedAccount(t, { credits: 50_000_000 });
    const before = await balanceOf(trainer.headers);
    const hyperparameters = { steps: 6, batch_size: 2, learning_rate: 0.01, seed: 7, eval_fraction: 0.2 };
    const res = await finetune(trainer.headers, {
      model: 'tiny-gpt2',
      name: 'lighthouse-gpt2',
      datasets: [{ id: dataset.id }],
      hyperparameters,
      pricing: { per_job: 500, per_1k_tokens: 1000 },
      royalty_bps: 1000,
    });
    expect(res.statusCode, res.body).toBe(202);
    const accepted = json(res);
    expect(accepted).toMatchObject({ kind: 'finetune', model: 'tiny-gpt2', weights_sha256: parent.weightsSha256 });
    const maxTokens = 6 * 2 * CONTEXT;
    expect(BigInt(accepted.max_cost)).toBe(jobCost(DEFAULT_MODEL_PRICES, maxTokens) + 7000n);

    const job = await finalJob(trainer.headers, accepted.id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const training = job.training;
    expect(training.steps_run).toBe(6);
    expect(training.losses).toHaveLength(6);
    expect(training.losses[5]).toBeLessThan(training.losses[0]);
    expect(training.loss_after).toBeLessThan(training.loss_before);
    expect(training.parent).toEqual({ id: 'tiny-gpt2', weights_sha256: parent.weightsSha256 });
    expect(training.datasets).toEqual([{ id: dataset.id, sha256: dataset.sha256 }]);
    expect(training.new_model.id).toBe('lighthouse-gpt2');
    expect(training.new_model.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(training.new_model.weights_sha256).not.toBe(parent.weightsSha256);
    expect(job.progress).toMatchObject({ step: 6, steps: 6 });
    expect(training.tokens_trained).toBeGreaterThan(0);
    expect(training.tokens_trained).toBeLessThanOrEqual(maxTokens);
    expect(job.usage.output_tokens).toBe(training.tokens_trained);

    // Money: the tokens trained at the parent's prices, plus the dataset's price to its owner, exactly.
    const expectedCost = jobCost(DEFAULT_MODEL_PRICES, training.tokens_trained) + 7000n;
    expect(BigInt(job.cost)).toBe(expectedCost);
    const after = await balanceOf(trainer.headers);
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(expectedCost);
    expect(after.held).toBe(0);
    const ownerAccount = await balanceOf(owner.headers);
    expect(BigInt(ownerAccount.earnings)).toBe(7000n);

    // The receipt names the parent's weights, the dataset's hash, the losses and the new weights.
    expect(job.receipt).not.toBeNull();
    const { payload } = decodeReceipt(job.receipt.jws);
    expect(payload.kind).toBe('finetune');
    expect(payload.model.weights_sha256).toBe(parent.weightsSha256);
    expect(payload.parameters).toMatchObject(hyperparameters);
    expect(payload.training).toEqual({
      datasets: [{ id: dataset.id, sha256: dataset.sha256 }],
      steps_run: 6,
      loss_before: training.loss_before,
      loss_after: training.loss_after,
      new_model: training.new_model,
    });
    const jwks = json(await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }));
    expect((await verifyReceiptSignature(job.receipt.jws, jwks)).ok).toBe(true);

    // The derived model: owned by the caller, parent recorded, published on chain with its parent.
    const model = await eventually(async () => {
      const m = json(await t.app.inject({ method: 'GET', url: '/v1/models/lighthouse-gpt2', headers: trainer.headers }));
      return m.ocean ? m : undefined;
    }, 60_000, 200);
    expect(model).toMatchObject({ parent_model_id: 'tiny-gpt2', owned_by_you: true, weights_sha256: training.new_model.weights_sha256 });
    const nft = new Interface(['function getData(bytes32 key) view returns (bytes)']);
    const call = async (key: string) =>
      nft.decodeFunctionResult(
        'getData',
        (await ocean.chain.request('eth_call', [{ to: model.ocean.nft_address, data: nft.encodeFunctionData('getData', [key]) }, 'latest'])) as string,
      )[0] as string;
    // ERC725 values are UTF-8 text, as ocean.js Nft.getData reads them.
    expect(toUtf8String(await call(keccak256(toUtf8Bytes('posthuman.weights_sha256'))))).toBe(training.new_model.weights_sha256);
    expect(toUtf8String(await call(keccak256(toUtf8Bytes('posthuman.parent_nft'))))).toBe(parent.nftAddress);

    // It serves, and it knows its training text better than its parent does.
    const evaluate = (m: string) =>
      t.app.inject({ method: 'POST', url: '/v1/evaluate', headers: trainer.headers, payload: { model: m, text: TRAINING_TEXT.slice(0, 400) } });
    const derivedScore = json(await evaluate('lighthouse-gpt2'));
    const parentScore = json(await evaluate('tiny-gpt2'));
    expect(derivedScore.status, JSON.stringify(derivedScore.error)).toBe('succeeded');
    expect(derivedScore.loss).toBeLessThan(parentScore.loss);
    const inferred = json(await t.app.inject({ method: 'POST', url: '/v1/infer', headers: trainer.headers, payload: { model: 'lighthouse-gpt2', input: 'The lighthouse', parameters: { max_new_tokens: 4 } } }));
    expect(inferred.status).toBe('succeeded');
    expect(inferred.weights_sha256).toBe(training.new_model.weights_sha256);
  });

  it('is deterministic: the same parent, data, hyper-parameters and seed give the same new weights', async () => {
    const { headers } = await createFundedAccount(t, { credits: 50_000_000 });
    const body = (name: string) => ({
      model: 'tiny-gpt2',
      name,
      datasets: [{ text: TRAINING_TEXT }],
      hyperparameters: { steps: 3, batch_size: 2, learning_rate: 0.005, seed: 11 },
    });
    const a = json(await finetune(headers, body('same-a')));
    const b = json(await finetune(headers, body('same-b')));
    const [ja, jb] = [await finalJob(headers, a.id), await finalJob(headers, b.id)];
    expect(ja.status).toBe('succeeded');
    expect(jb.status).toBe('succeeded');
    expect(jb.training.new_model.weights_sha256).toBe(ja.training.new_model.weights_sha256);
    expect(jb.training.losses).toEqual(ja.training.losses);
  });

  it('replay-audits a training: another worker re-trains and finds the same new weights (and a forged hash is a mismatch)', async () => {
    const { headers } = await createFundedAccount(t, { credits: 50_000_000 });
    const accepted = json(
      await finetune(headers, { model: 'tiny-gpt2', name: 'audited', datasets: [{ text: TRAINING_TEXT }], hyperparameters: { steps: 2, batch_size: 2, seed: 5 } }),
    );
    const job = await finalJob(headers, accepted.id);
    expect(job.status).toBe('succeeded');
    const audit = createAuditHandler({ db: t.app.db, engines: createEngineRegistry({ threads: 1, batchMax: 1, batchWaitMs: 0 }), workerId: 'auditor', log: t.app.log, dataDir: t.config.dataDir, threads: 1 });
    const verdict = async () => {
      const row = await insertAudit(t.app.db, job.id, 'operator');
      await audit(row.id, { attempt: 1, finalAttempt: true });
      const [done] = await t.app.db.select().from(audits).where(eq(audits.id, row.id));
      return done;
    };
    expect(await verdict()).toMatchObject({ status: 'passed', replayWorkerId: 'auditor' });
    // A worker that had claimed other weights: the stored result names a hash the replay cannot reproduce.
    const forged = { ...job.training, new_model: { ...job.training.new_model, weights_sha256: '0'.repeat(64) } };
    await t.app.db.update(jobs).set({ result: { training: forged } }).where(eq(jobs.id, job.id));
    expect(await verdict()).toMatchObject({ status: 'mismatch' });
  });

  it('stops at the next step on cancel, charges only the steps run, and makes no model', async () => {
    const { headers } = await createFundedAccount(t, { credits: 500_000_000 });
    const before = await balanceOf(headers);
    const accepted = json(
      await finetune(headers, {
        model: 'tiny-gpt2',
        name: 'never-finished',
        datasets: [{ text: TRAINING_TEXT }],
        hyperparameters: { steps: 2000, batch_size: 1, learning_rate: 0.001 },
      }),
    );
    await eventually(async () => ((await getJob(headers, accepted.id)).progress?.step ?? 0) >= 2, 120_000, 200);
    const cancel = await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${accepted.id}`, headers });
    expect([200, 202]).toContain(cancel.statusCode);
    const job = await finalJob(headers, accepted.id);
    expect(job.status).toBe('cancelled');
    const steps = job.training.steps_run;
    expect(steps).toBeGreaterThanOrEqual(2);
    expect(steps).toBeLessThan(2000);
    expect(job.training.new_model).toBeNull();
    expect(job.training.tokens_trained).toBeLessThanOrEqual(steps * CONTEXT);
    const charged = jobCost(DEFAULT_MODEL_PRICES, job.training.tokens_trained);
    expect(BigInt(job.cost)).toBe(charged);
    const after = await balanceOf(headers);
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(charged);
    expect(after.held).toBe(0);
    expect((await t.app.inject({ method: 'GET', url: '/v1/models/never-finished' })).statusCode).toBe(404);
  });

  it('refuses what cannot be trained, naming the field, and holds nothing', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000 });
    const other = await createFundedAccount(t, { name: 'private data' });
    const hidden = await uploadDataset(other.headers, TRAINING_TEXT, 'name=secret&price_per_job=0');
    const cases: Array<[object, number, string]> = [
      [{ model: 'tiny-gpt2', name: 'tiny-gpt2', datasets: [{ text: TRAINING_TEXT }] }, 409, 'body.name'],
      [{ model: 'tiny-gpt2', name: 'x1', datasets: [{ id: hidden.id }] }, 404, 'body.datasets[0]'],
      // The field names the dataset's place in the body, inline texts counted.
      [{ model: 'tiny-gpt2', name: 'x5', datasets: [{ text: TRAINING_TEXT }, { id: hidden.id }] }, 404, 'body.datasets[1]'],
      [{ model: 'tiny-gpt2', name: 'x2', datasets: [{ text: 'a' }] }, 400, 'body.datasets[0].text'],
      [{ model: 'tiny-gpt2', name: 'x3', datasets: [{ text: TRAINING_TEXT }], hyperparameters: { steps: 2000 } }, 402, ''],
    ];
    for (const [payload, status, field] of cases) {
      const res = await finetune(headers, payload);
      expect(res.statusCode, res.body).toBe(status);
      if (field) expect(json(res).field).toBe(field);
    }
    expect((await balanceOf(headers)).held).toBe(0);
    const noScope = await createFundedAccount(t, { credits: 1_000_000, scopes: ['infer'] });
    expect((await finetune(noScope.headers, { model: 'tiny-gpt2', name: 'x4', datasets: [{ text: TRAINING_TEXT }] })).statusCode).toBe(403);
  });
});
