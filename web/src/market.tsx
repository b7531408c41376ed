// Market: every model with its price, context, lineage and on-chain facts; the datasets a key can see.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { unwrap, type components } from '../../src/client/index.js';
import { ChainValue, credits, ErrorBox } from './components.js';
import { client, describeError, type ShownError, useSession } from './session.js';

type Model = components['schemas']['Model'];
type Dataset = components['schemas']['Dataset'];
type Ocean = { chain_id: number; did: string; nft_address: string; datatoken_address: string; tx_hashes: Record<string, string> };

function OnChain({ ocean, sha256 }: { ocean: Ocean | null; sha256: string }) {
  const { config } = useSession();
  const pattern = config.explorer_url_pattern;
  if (!ocean) return <p class="muted">Not published on chain yet.</p>;
  return (
    <dl class="facts">
      <dt>DID</dt>
      <dd>
        <code class="wrap">{ocean.did}</code>
      </dd>
      <dt>Data NFT</dt>
      <dd>
        <ChainValue pattern={pattern} kind="token" value={ocean.nft_address} />
      </dd>
      <dt>Datatoken</dt>
      <dd>
        <ChainValue pattern={pattern} kind="token" value={ocean.datatoken_address} />
      </dd>
      <dt>Weights sha256</dt>
      <dd>
        <code class="wrap">{sha256}</code>
      </dd>
      {Object.entries(ocean.tx_hashes).map(([name, tx]) => (
        <Fragment key={name}>
          <dt>{name} tx</dt>
          <dd>
            <ChainValue pattern={pattern} kind="tx" value={tx} />
          </dd>
        </Fragment>
      ))}
      <dt>Chain</dt>
      <dd>{ocean.chain_id}</dd>
    </dl>
  );
}

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

function ModelCard({ model }: { model: Model }) {
  return (
    <article class="card" aria-labelledby={`model-${model.id}`}>
      <h3 id={`model-${model.id}`}>{model.name}</h3>
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{model.id}</code>
        </dd>
        <dt>Owner</dt>
        <dd>{model.owned_by_you ? 'you' : (model.owner_account_id ?? 'not shown')}</dd>
        <dt>Price</dt>
        <dd>
          {credits(model.pricing.per_job)} a job + {credits(model.pricing.per_1k_tokens)} per 1k tokens
        </dd>
        <dt>Context</dt>
        <dd>{model.context_length} tokens</dd>
        <dt>Tasks</dt>
        <dd>{model.task_kinds.join(', ')}</dd>
        <dt>Lineage</dt>
        <dd>{model.lineage.length ? `fine-tuned from ${model.lineage.join(' ← ')} (royalty ${model.royalty_bps / 100} %)` : 'a base model'}</dd>
        {model.usage ? (
          <>
            <dt>Usage</dt>
            <dd data-usage-jobs={model.usage.jobs}>
              {plural(model.usage.jobs, 'job')}, {plural(model.usage.tokens, 'token')} ({plural(model.usage.last_30_days.jobs, 'job')} in
              the last 30 days)
            </dd>
          </>
        ) : null}
      </dl>
      <h4>On chain</h4>
      <OnChain ocean={model.ocean as Ocean | null} sha256={model.weights_sha256} />
      <p>
        <a href={`#/playground?model=${encodeURIComponent(model.id)}`}>Try {model.name} in the playground</a>
      </p>
    </article>
  );
}

function DatasetCard({ dataset }: { dataset: Dataset }) {
  return (
    <article class="card" aria-labelledby={`dataset-${dataset.id}`}>
      <h3 id={`dataset-${dataset.id}`}>{dataset.name}</h3>
      {dataset.description ? <p>{dataset.description}</p> : null}
      <dl class="facts">
        <dt>Format</dt>
        <dd>{dataset.format}</dd>
        <dt>Size</dt>
        <dd>
          {dataset.documents} documents, {dataset.tokens ?? '?'} tokens, {dataset.bytes} bytes
        </dd>
        <dt>Price</dt>
        <dd>{credits(dataset.price_per_job)} per fine-tune</dd>
        <dt>Owner</dt>
        <dd>{dataset.owned_by_you ? 'you' : 'another account'}</dd>
      </dl>
      <h4>On chain</h4>
      <OnChain ocean={dataset.ocean as Ocean | null} sha256={dataset.sha256} />
    </article>
  );
}

export function MarketPage() {
  const { key } = useSession();
  const [models, setModels] = useState<Model[] | null>(null);
  const [datasets, setDatasets] = useState<Dataset[] | null>(null);
  const [error, setError] = useState<ShownError | null>(null);

  useEffect(() => {
    const api = client(key).api;
    api
      .GET('/v1/models')
      .then((r) => setModels(unwrap(r).data))
      .catch((err) => setError(describeError(err)));
    if (key) {
      api
        .GET('/v1/datasets', { params: { query: { limit: 50 } } })
        .then((r) => setDatasets(unwrap(r).data))
        .catch((err) => {
          setDatasets([]);
          setError(describeError(err));
        });
    } else setDatasets(null);
  }, [key]);

  return (
    <>
      <h1>Market</h1>
      <p class="lede">Models served here, each a compute-only Ocean asset: its weights never leave; you buy jobs on them.</p>
      <ErrorBox error={error} />
      <section aria-labelledby="models-heading">
        <h2 id="models-heading">Models</h2>
        {models === null ? <p aria-live="polite">Loading…</p> : null}
        {models?.length === 0 ? <p>No models yet.</p> : null}
        <div class="cards">
          {models?.map((m) => (
            <ModelCard key={m.id} model={m} />
          ))}
        </div>
      </section>
      <section aria-labelledby="datasets-heading">
        <h2 id="datasets-heading">Datasets</h2>
        {key ? null : (
          <p>
            <a href="#/account">Sign in</a> to see the datasets you may fine-tune on.
          </p>
        )}
        {key && datasets === null ? <p aria-live="polite">Loading…</p> : null}
        {datasets?.length === 0 ? <p>No datasets yet.</p> : null}
        <div class="cards">
          {datasets?.map((d) => (
            <DatasetCard key={d.id} dataset={d} />
          ))}
        </div>
      </section>
    </>
  );
}
