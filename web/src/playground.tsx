// Playground: stream an inference, see its cost and receipt and verify that receipt here in the
// browser (the project's standalone verifier: WebCrypto and JSON-RPC); evaluate texts; fine-tune.
import { useEffect, useRef, useState } from 'preact/hooks';
import { type components, type GatewayClient, type Job, unwrap } from '../../src/client/index.js';
import { checkReceiptAtGateway, jsonRpcOverHttp, type ReceiptCheckOutcome } from '../../src/verifier/index.js';
import { credits, ErrorBox, LineChart, TextField } from './components.js';
import { client, describeError, type ShownError, useAction, useSession } from './session.js';

type Model = components['schemas']['Model'];
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** The job once final: follows its event stream when the answer came back before it finished. */
async function finished(api: GatewayClient, job: Job, onProgress?: (loss: number) => void): Promise<Job> {
  if (FINAL.has(job.status)) return job;
  for await (const event of api.followJob(job.id)) {
    if (event.event === 'progress') onProgress?.(event.data.loss);
    if (event.event === 'done') return event.data;
  }
  return unwrap(await api.api.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } }));
}

/** The receipt is issued by the worker just after the job settles: ask until it is there (about a minute at most). */
async function withReceipt(api: GatewayClient, job: Job): Promise<Job> {
  for (let i = 0; i < 60 && !job.receipt && job.status === 'succeeded'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    job = unwrap(await api.api.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } }));
  }
  return job;
}

function ModelPicker({ models, value, onChange, id, kind }: { models: Model[]; value: string; onChange(v: string): void; id: string; kind: string }) {
  const usable = models.filter((m) => m.task_kinds.includes(kind as never));
  return (
    <p class="field">
      <label for={id}>Model</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {usable.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name} ({m.id})
          </option>
        ))}
      </select>
    </p>
  );
}

function ReceiptPanel({ job }: { job: Job }) {
  const { config } = useSession();
  const [checks, setChecks] = useState<ReceiptCheckOutcome[] | null>(null);
  const [verdict, setVerdict] = useState<boolean | null>(null);
  const { running: busy, error, run } = useAction();
  const receipt = job.receipt;
  if (!receipt) return <p class="muted">The receipt is on its way (the worker signs it just after the job settles)…</p>;

  const verify = () =>
    run(async () => {
      setChecks(null);
      const rpc = config.chain_rpc_url ? jsonRpcOverHttp(config.chain_rpc_url) : null;
      const { report } = await checkReceiptAtGateway({ jws: receipt.jws, gateway: location.origin, rpc });
      setChecks(report.checks);
      setVerdict(report.ok);
    });

  return (
    <section aria-labelledby="receipt-heading" class="receipt">
      <h3 id="receipt-heading">Receipt</h3>
      <p>
        Receipt <code>{receipt.id}</code>, log entry {receipt.log_index}.
      </p>
      <details>
        <summary>The signed receipt (compact JWS)</summary>
        <pre class="wrap">{receipt.jws}</pre>
      </details>
      <p>
        <button type="button" onClick={verify} disabled={busy}>
          {busy ? 'Verifying…' : 'Verify in browser'}
        </button>{' '}
        <span class="muted">
          Checks the signature with WebCrypto and the weights, order and anchored log against the chain
          {config.chain_rpc_url ? ` at ${config.chain_rpc_url}` : ' (no chain RPC is configured: those checks fail)'}.
        </span>
      </p>
      <ErrorBox error={error} />
      {checks ? (
        <>
          <ul class="checks" aria-label="Receipt checks">
            {checks.map((c) => (
              <li key={c.check} class={c.ok ? 'pass' : 'fail'} data-check={c.check}>
                <strong>{c.ok ? 'pass' : 'FAIL'}</strong> {c.check}: {c.detail}
              </li>
            ))}
          </ul>
          <p role="status" class={verdict ? 'pass' : 'fail'}>
            {verdict ? `Verified: all ${checks.length} checks passed.` : `Not verified: ${checks.filter((c) => !c.ok).length} check(s) failed.`}
          </p>
        </>
      ) : null}
    </section>
  );
}

function Infer({ models, initialModel }: { models: Model[]; initialModel: string }) {
  const { key } = useSession();
  const [model, setModel] = useState(initialModel);
  const [prompt, setPrompt] = useState('The gateway');
  const [maxTokens, setMaxTokens] = useState(16);
  const [tokens, setTokens] = useState('');
  const [status, setStatus] = useState('');
  const [job, setJob] = useState<Job | null>(null);
  const { running, error, run } = useAction();
  useEffect(() => setModel(initialModel), [initialModel]);

  const generate = (event: Event) => {
    event.preventDefault();
    const api = client(key);
    setTokens('');
    setJob(null);
    setStatus('Queued…');
    return run(async () => {
      let done: Job | null = null;
      for await (const e of api.inferStream({ model, input: prompt, parameters: { max_new_tokens: maxTokens } })) {
        if (e.event === 'status') setStatus(e.data.status === 'running' ? 'Running…' : e.data.status);
        if (e.event === 'token') setTokens((t) => t + e.data.text);
        if (e.event === 'done') done = e.data;
        if (e.event === 'expired') throw new Error(e.data.detail);
      }
      if (!done) throw new Error('the stream ended before the job finished');
      setJob(done);
      setStatus(done.status === 'succeeded' ? 'Done.' : `The job ${done.status}: ${done.error?.message ?? ''}`);
      if (done.status === 'succeeded') setJob(await withReceipt(api, done));
    });
  };

  return (
    <section aria-labelledby="infer-heading">
      <h2 id="infer-heading">Generate</h2>
      <form onSubmit={generate}>
        <ModelPicker id="infer-model" models={models} value={model} onChange={setModel} kind="infer" />
        <TextField id="prompt" label="Prompt" rows={3} value={prompt} onValue={setPrompt} required />
        <p class="field">
          <label for="max-tokens">Tokens to generate at most</label>
          <input id="max-tokens" type="number" min={1} max={4096} value={maxTokens} onInput={(e) => setMaxTokens(Number((e.target as HTMLInputElement).value))} />
        </p>
        <button type="submit" disabled={running || !key}>
          {running ? 'Generating…' : 'Generate'}
        </button>
        {key ? null : (
          <span class="muted">
            {' '}
            <a href="#/account">Sign in with an API key</a> to run jobs.
          </span>
        )}
      </form>
      <ErrorBox error={error} />
      {/* Fixed-size boxes: streamed tokens and the totals fill space already there, nothing below moves. */}
      <p class="status" role="status" aria-live="polite">
        {error ? '' : status}
      </p>
      <output class="stream" aria-label="Generated text" for="prompt">
        <span class="prompt-echo">{tokens ? prompt : ''}</span>
        {tokens}
      </output>
      <dl class="totals" aria-label="Usage and cost">
        <dt>Tokens in / out</dt>
        <dd data-testid="usage">{job?.usage ? `${job.usage.input_tokens} / ${job.usage.output_tokens}` : '—'}</dd>
        <dt>Cost</dt>
        <dd data-testid="cost">{job?.cost != null ? credits(job.cost) : '—'}</dd>
        <dt>Finish</dt>
        <dd>{job?.finish_reason ?? '—'}</dd>
      </dl>
      {job?.status === 'succeeded' ? <ReceiptPanel job={job} /> : null}
    </section>
  );
}

function Evaluate({ models, initialModel }: { models: Model[]; initialModel: string }) {
  const { key } = useSession();
  const [model, setModel] = useState(initialModel);
  const [text, setText] = useState(
    // Ordinary prose of the kind the default model learnt from (State of the Union addresses): a perplexity
    // of about 20 there, where a pangram scores thousands and makes a working model look broken.
    'We must invest in our schools and our roads, so that every child in America has the chance to build a better future.\n\n' +
      'Tonight I want to talk about the state of our economy and what we can do together to help American families get ahead.',
  );
  const [job, setJob] = useState<Job | null>(null);
  const { running, error, run } = useAction();
  useEffect(() => setModel(initialModel), [initialModel]);
  const texts = text
    .split(/\n\s*\n/)
    .map((t) => t.trim())
    .filter(Boolean);

  const evaluate = (event: Event) => {
    event.preventDefault();
    const api = client(key);
    setJob(null);
    return run(async () => setJob(await finished(api, unwrap(await api.api.POST('/v1/evaluate', { body: { model, texts } })) as Job)));
  };

  return (
    <section aria-labelledby="evaluate-heading">
      <h2 id="evaluate-heading">Evaluate</h2>
      <form onSubmit={evaluate}>
        <ModelPicker id="evaluate-model" models={models} value={model} onChange={setModel} kind="evaluate" />
        <TextField id="evaluate-texts" label="Texts (separate texts with an empty line)" rows={4} value={text} onValue={setText} required />
        <button type="submit" disabled={running || !key || texts.length === 0}>
          {running ? 'Evaluating…' : `Evaluate ${texts.length} text${texts.length === 1 ? '' : 's'}`}
        </button>
      </form>
      <ErrorBox error={error} />
      {job?.results ? (
        <table>
          <caption>
            Loss and perplexity per text (overall: loss {job.loss?.toFixed(3)}, perplexity {job.perplexity?.toFixed(1)}, cost {credits(job.cost ?? 0)})
          </caption>
          <thead>
            <tr>
              <th scope="col">Text</th>
              <th scope="col">Tokens</th>
              <th scope="col">Loss</th>
              <th scope="col">Perplexity</th>
            </tr>
          </thead>
          <tbody>
            {job.results.map((r, i) => (
              <tr key={String(i)}>
                <td class="clip">{texts[i]}</td>
                <td>{r.tokens}</td>
                <td>{r.loss.toFixed(3)}</td>
                <td>{r.perplexity.toFixed(1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function Finetune({ models, initialModel }: { models: Model[]; initialModel: string }) {
  const { key } = useSession();
  const [model, setModel] = useState(initialModel);
  const [name, setName] = useState('');
  const [text, setText] = useState('');
  const [losses, setLosses] = useState<number[]>([]);
  const [job, setJob] = useState<Job | null>(null);
  const { running, error, run } = useAction();
  const lossRef = useRef<number[]>([]);
  useEffect(() => setModel(initialModel), [initialModel]);

  const finetune = (event: Event) => {
    event.preventDefault();
    const api = client(key);
    setJob(null);
    lossRef.current = [];
    setLosses([]);
    return run(async () => {
      const started = unwrap(await api.api.POST('/v1/finetune', { body: { model, name, datasets: [{ text }] } })) as Job;
      setJob(started);
      setJob(
        await finished(api, started, (loss) => {
          lossRef.current = [...lossRef.current, loss];
          setLosses(lossRef.current);
        }),
      );
    });
  };

  return (
    <section aria-labelledby="finetune-heading">
      <h2 id="finetune-heading">Fine-tune</h2>
      <p class="muted">Needs a key with the finetune scope. The new model is published on chain and appears in the market.</p>
      <form onSubmit={finetune}>
        <ModelPicker id="finetune-model" models={models} value={model} onChange={setModel} kind="infer" />
        <TextField id="finetune-name" label="New model id" value={name} onValue={setName} pattern="[a-z0-9][a-z0-9._\-]{0,63}" required />
        <TextField id="finetune-text" label="Training text" rows={4} value={text} onValue={setText} required />
        <button type="submit" disabled={running || !key}>
          {running ? 'Training…' : 'Fine-tune'}
        </button>
      </form>
      <ErrorBox error={error} />
      {losses.length ? <LineChart title={`Training loss, ${losses.length} step(s)`} values={losses} /> : null}
      {job ? (
        <p role="status">
          Job <code>{job.id}</code>: {job.status}
          {job.cost != null ? `, cost ${credits(job.cost)}` : ''}
        </p>
      ) : null}
    </section>
  );
}

export function PlaygroundPage({ query }: { query: URLSearchParams }) {
  const { key } = useSession();
  const [models, setModels] = useState<Model[]>([]);
  const [error, setError] = useState<ShownError | null>(null);
  useEffect(() => {
    client(key)
      .api.GET('/v1/models')
      .then((r) => setModels(unwrap(r).data))
      .catch((err) => setError(describeError(err)));
  }, [key]);
  const initialModel = query.get('model') ?? models[0]?.id ?? '';
  return (
    <>
      <h1>Playground</h1>
      <ErrorBox error={error} />
      {models.length ? (
        <>
          <Infer models={models} initialModel={initialModel} />
          <Evaluate models={models} initialModel={initialModel} />
          <Finetune models={models} initialModel={initialModel} />
        </>
      ) : (
        <p aria-live="polite">Loading models…</p>
      )}
    </>
  );
}
