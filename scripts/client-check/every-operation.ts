// Calls every operation of openapi/openapi.json with openapi-fetch over the types openapi-typescript
// generates, as any generated client would, so a change to the document that breaks generated
// clients fails the type check. Never run: CI type-checks it (scripts/check-generated-client.sh),
// and that script also fails when an operation of the document has no call here.
import createClient from 'openapi-fetch';
import type { paths } from '../../src/client/openapi-types.js';

const id = '6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11';
const raw = { bodySerializer: (body: unknown) => body as string };

/** The job routes answer a job, or (with `stream: true`) an event stream: the generated type is the union. */
function asJob<T>(answer: T | string): T {
  if (typeof answer === 'string') throw new TypeError('expected a job, got an event stream');
  return answer;
}

function unwrap<T>(result: { data?: T; error?: unknown }): T {
  if (result.data === undefined) throw new Error(`the gateway answered an error: ${JSON.stringify(result.error)}`);
  return result.data;
}

export async function everyOperation(baseUrl: string, apiKey: string, operatorToken: string) {
  const api = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${apiKey}` } });
  const operator = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${operatorToken}` } });

  // operations
  await api.GET('/healthz');
  await api.GET('/readyz');
  await operator.GET('/metrics', { parseAs: 'text' });

  // admin: accounts, keys, credits
  const account = unwrap(await operator.POST('/v1/admin/accounts', { body: { name: 'Acme' } }));
  const created: string = account.id;
  await operator.GET('/v1/admin/accounts/{id}', { params: { path: { id: created } } });
  const key = unwrap(await operator.POST('/v1/admin/accounts/{id}/keys', { params: { path: { id: created } }, body: { scopes: ['infer'], spend_cap: 2_000_000 } }));
  const secret: string = key.key;
  await operator.POST('/v1/admin/accounts/{id}/credits', {
    params: { path: { id: created }, header: { 'idempotency-key': 'topup-1' } },
    body: { amount: 5_000_000, reason: 'prepaid invoice 1042' },
  });

  // account
  const me = unwrap(await api.GET('/v1/account'));
  const balance: number = me.balance;
  await api.GET('/v1/account/ledger', { params: { query: { limit: 20 } } });
  await api.GET('/v1/account/keys');
  const own = unwrap(await api.POST('/v1/account/keys', { body: { name: 'ci', scopes: ['infer'] } }));
  await api.DELETE('/v1/account/keys/{id}', { params: { path: { id: own.id } } });

  // models and datasets
  await api.POST('/v1/models', {
    params: { query: { id: 'my-model', price_per_job: 1000, price_per_1k_tokens: 2000 } },
    body: new Uint8Array([0x1f, 0x8b]),
    headers: { 'content-type': 'application/gzip' },
    ...raw,
  });
  const models = unwrap(await api.GET('/v1/models'));
  const first: string | undefined = models.data[0]?.weights_sha256;
  const one = unwrap(await api.GET('/v1/models/{id}', { params: { path: { id: 'tiny-gpt2' } } }));
  console.log(`${one.id}: ${one.usage?.jobs ?? 0} jobs, ${one.usage?.last_30_days.tokens ?? 0} tokens in 30 days`);
  await operator.POST('/v1/admin/models', { body: { id: 'gpt2', path: '/srv/models/gpt2', price_per_job: 2000, price_per_1k_tokens: 10_000 } });
  const dataset = unwrap(
    await api.POST('/v1/datasets', { params: { query: { name: 'notes' } }, body: 'Some text to train on.', headers: { 'content-type': 'text/plain' }, ...raw }),
  );
  await api.GET('/v1/datasets', { params: { query: { limit: 10 } } });
  await api.GET('/v1/datasets/{id}', { params: { path: { id: dataset.id } } });
  const asset = unwrap(await api.POST('/v1/datasets/{id}/publish', { params: { path: { id: dataset.id } }, body: {} })).ocean;
  if (asset?.content_sha256 !== dataset.sha256) throw new Error('the asset names other content');
  await api.DELETE('/v1/datasets/{id}', { params: { path: { id: dataset.id } } });

  // jobs
  const job = asJob(unwrap(
    await api.POST('/v1/infer', {
      params: { header: { prefer: 'wait=5', 'idempotency-key': 'req-42' } },
      body: { model: 'tiny-gpt2', model_sha256: first, input: 'The quick brown fox', parameters: { max_new_tokens: 16, temperature: 0.8, seed: 7 } },
    }),
  ));
  const output: string | undefined = job.output;
  const stream = await api.POST('/v1/infer', { body: { model: 'tiny-gpt2', input: 'Once upon a time', stream: true }, parseAs: 'stream' });
  const events: ReadableStream<Uint8Array> | null | undefined = stream.data;
  await api.POST('/v1/evaluate', { body: { model: 'tiny-gpt2', texts: ['Hello world'] } });
  await api.POST('/v1/finetune', { body: { model: 'tiny-gpt2', name: 'support-desk', datasets: [{ text: 'Our desk opens at nine.' }], hyperparameters: { steps: 4 } } });
  await api.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } });
  await api.DELETE('/v1/jobs/{id}', { params: { path: { id: job.id } } });
  await api.GET('/v1/jobs/{id}/events', { params: { path: { id: job.id } }, parseAs: 'stream' });
  await api.GET('/v1/jobs', { params: { query: { limit: 20, cursor: undefined } } });

  // receipts and the log
  await api.GET('/.well-known/jwks.json');
  const receipt = unwrap(await api.GET('/v1/receipts/{id}', { params: { path: { id: job.receipt?.id ?? id } } }));
  await api.GET('/v1/log/tree-head');
  await api.GET('/v1/log/proof/inclusion', { params: { query: { receipt: receipt.id } } });
  await api.GET('/v1/log/proof/consistency', { params: { query: { from: 1, to: 2 } } });
  await operator.POST('/v1/admin/keys/rotate', { body: {} });
  await operator.POST('/v1/admin/log/anchor', { body: null });
  const checked = unwrap(await api.POST('/v1/receipts/verify', { body: { receipt: receipt.jws } }));
  await api.GET('/.well-known/posthuman-marketplace.json');
  await operator.POST('/v1/admin/audits', { body: { job_id: job.id } });
  await operator.GET('/v1/admin/audits/{id}', { params: { path: { id } } });

  // wallet
  await api.GET('/v1/wallet');
  await api.POST('/v1/auth/siwe/nonce', { body: { address: '0x32E3c9A1f5b3d27C0b6a8e4F1d9c7B2a5E6f6Ee0' } });
  await api.POST('/v1/auth/siwe/verify', { body: { message: 'signed text', signature: '0x00' } });
  await api.POST('/v1/account/wallet', { body: { message: 'signed text', signature: '0x00' } });
  await api.GET('/v1/account/deposits', { params: { query: { limit: 10 } } });
  await api.POST('/v1/account/payouts', { body: { amount: 1_000_000 } });
  await api.GET('/v1/account/payouts');
  await api.GET('/v1/account/payouts/{id}', { params: { path: { id } } });
  await operator.GET('/v1/admin/deposits', { params: { query: { limit: 10 } } });
  await operator.POST('/v1/admin/deposits/{id}/credit', { params: { path: { id } }, body: { account_id: created } });
  await operator.GET('/v1/admin/wallet/reconciliation');

  // webhooks
  const endpoint = unwrap(await api.POST('/v1/webhooks', { body: { url: 'https://example.com/hooks', event_types: ['job.succeeded'] } }));
  const signingSecret: string = endpoint.secret;
  await api.GET('/v1/webhooks');
  await api.GET('/v1/webhooks/{id}', { params: { path: { id: endpoint.id } } });
  await api.PATCH('/v1/webhooks/{id}', { params: { path: { id: endpoint.id } }, body: { enabled: false } });
  await api.POST('/v1/webhooks/{id}/rotate-secret', { params: { path: { id: endpoint.id } }, body: { grace_seconds: 3600 } });
  const deliveries = unwrap(await api.GET('/v1/webhooks/{id}/deliveries', { params: { path: { id: endpoint.id }, query: { status: 'dead' } } }));
  const delivery = deliveries.data[0]?.id ?? id;
  await api.GET('/v1/webhooks/{id}/deliveries/{delivery_id}', { params: { path: { id: endpoint.id, delivery_id: delivery } } });
  await api.POST('/v1/webhooks/{id}/deliveries/{delivery_id}/replay', { params: { path: { id: endpoint.id, delivery_id: delivery } }, body: {} });
  await api.DELETE('/v1/webhooks/{id}', { params: { path: { id: endpoint.id } } });

  // OpenAI-compatible
  await api.GET('/openai/v1/models');
  await api.GET('/openai/v1/models/{model}', { params: { path: { model: 'tiny-gpt2' } } });
  const completion = asJob(unwrap(await api.POST('/openai/v1/completions', { body: { model: 'tiny-gpt2', prompt: 'The quick brown fox', max_tokens: 16 } })));
  const chat = asJob(
    unwrap(await api.POST('/openai/v1/chat/completions', { body: { model: 'tiny-gpt2', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 16 } })),
  );
  const content: string = chat.choices[0].message.content;

  return { secret, signingSecret, balance, output, events, checked: checked.ok, completion: completion.choices[0].text, content };
}
