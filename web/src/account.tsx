// Account: sign in with an API key; balance, holds, ledger, usage over time, keys (create, copy once,
// revoke), deposits and payouts.
import { useEffect, useState } from 'preact/hooks';
import { type components, unwrap } from '../../src/client/index.js';
import { BarChart, ChainValue, CopyButton, credits, ErrorBox, TextField } from './components.js';
import { client, describeError, type ShownError, useAction, useSession } from './session.js';

type Schemas = components['schemas'];
type Scope = Schemas['Scope'];
const SCOPES: Scope[] = ['infer', 'evaluate', 'finetune', 'publish', 'keys'];

/** An EIP-1193 wallet the browser injects (MetaMask and the like). */
type Eip1193 = { request(args: { method: string; params?: unknown[] }): Promise<unknown> };
const injectedWallet = () => (window as unknown as { ethereum?: Eip1193 }).ethereum;

const hexOf = (text: string) => `0x${[...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;

/** Sign-In with Ethereum: the gateway's message for this address, signed by the wallet, for a session token. */
function WalletSignIn() {
  const { setKey } = useSession();
  const { running, error, run } = useAction();
  const wallet = injectedWallet();
  if (!wallet) return <p class="muted">No browser wallet found: install one (e.g. MetaMask) to sign in with your address.</p>;
  const signIn = () =>
    run(async () => {
      const [address] = (await wallet.request({ method: 'eth_requestAccounts' })) as string[];
      const api = client(null).api;
      const { message } = unwrap(await api.POST('/v1/auth/siwe/nonce', { body: { address } }));
      if (!message) throw new Error('the gateway sent no message to sign');
      const signature = (await wallet.request({ method: 'personal_sign', params: [hexOf(message), address] })) as string;
      setKey(unwrap(await api.POST('/v1/auth/siwe/verify', { body: { message, signature } })).token);
    });
  return (
    <>
      <p>
        <button type="button" onClick={signIn} disabled={running}>
          {running ? 'Waiting for the wallet…' : 'Sign in with wallet'}
        </button>
      </p>
      <p class="muted">A wallet session manages the account (keys, balance, deposits, payouts) for 15 minutes; jobs need an API key.</p>
      <ErrorBox error={error} />
    </>
  );
}

function SignIn() {
  const { setKey } = useSession();
  const [value, setValue] = useState('');
  const { error, run } = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    return run(async () => {
      unwrap(await client(value.trim()).api.GET('/v1/account'));
      setKey(value.trim());
    });
  };
  return (
    <section aria-labelledby="signin-heading">
      <h2 id="signin-heading">Sign in</h2>
      <form onSubmit={submit}>
        <p class="field">
          <label for="api-key">API key</label>
          <input id="api-key" type="password" autoComplete="off" spellcheck={false} placeholder="ph_…" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} required />
        </p>
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">The key stays in this tab only (sessionStorage) and is sent to this gateway alone.</p>
      <ErrorBox error={error} />
      <h3>Or with a wallet</h3>
      <WalletSignIn />
    </section>
  );
}

/** Credits spent per day over the last 14 days (UTC), from the jobs listed (the newest 200). */
function usageByDay(jobs: Schemas['Job'][], days = 14): { label: string; value: number }[] {
  const spent = new Map<string, number>();
  for (const job of jobs) {
    const day = job.created_at.slice(0, 10);
    spent.set(day, (spent.get(day) ?? 0) + (job.cost ?? 0));
  }
  const today = Date.parse(new Date().toISOString().slice(0, 10));
  return Array.from({ length: days }, (_, i) => {
    const label = new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10);
    return { label, value: spent.get(label) ?? 0 };
  });
}

function Keys() {
  const { key } = useSession();
  const [keys, setKeys] = useState<Schemas['ApiKey'][] | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['infer', 'evaluate']);
  const [created, setCreated] = useState<Schemas['NewApiKey'] | null>(null);
  const { error, run } = useAction();
  const api = client(key).api;
  const reload = async () => setKeys(unwrap(await api.GET('/v1/account/keys')).data);
  useEffect(() => void run(reload), [key]);

  const create = (event: Event) => {
    event.preventDefault();
    return run(async () => {
      setCreated(unwrap(await api.POST('/v1/account/keys', { body: { name, scopes } })));
      setName('');
      await reload();
    });
  };
  const revoke = (id: string) =>
    run(async () => {
      unwrap(await api.DELETE('/v1/account/keys/{id}', { params: { path: { id } } }));
      await reload();
    });

  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <form onSubmit={create} class="inline-form">
        <TextField id="key-name" label="Name of a new key" value={name} onValue={setName} />
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s} class="check">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => setScopes((e.target as HTMLInputElement).checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
              />{' '}
              {s}
            </label>
          ))}
        </fieldset>
        <button type="submit">Create key</button>
      </form>
      <ErrorBox error={error} />
      {created ? (
        <div class="notice" role="status">
          <p>
            New key <strong>{created.name ?? created.prefix}</strong>: copy it now, it is not shown again.
          </p>
          <p>
            <code class="wrap" data-testid="new-key">
              {created.key}
            </code>{' '}
            <CopyButton text={created.key} label="Copy key" />{' '}
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </p>
        </div>
      ) : null}
      <div class="table-scroll">
        <table>
          <caption>Your keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scopes</th>
              <th scope="col">Spent</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((k) => (
              <tr key={k.id} data-key-id={k.id}>
                <td>{k.name ?? '—'}</td>
                <td>
                  <code>{k.prefix}</code>
                </td>
                <td>{k.scopes.join(', ')}</td>
                <td>{credits(k.spent)}</td>
                <td>
                  {k.revoked_at ? (
                    `revoked ${k.revoked_at.slice(0, 10)}`
                  ) : key?.startsWith(`ph_${k.prefix}_`) ? (
                    'this session'
                  ) : (
                    <button type="button" onClick={() => revoke(k.id)} aria-label={`Revoke key ${k.name ?? k.prefix}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Overview() {
  const { key, config } = useSession();
  const [account, setAccount] = useState<Schemas['Account'] | null>(null);
  const [ledger, setLedger] = useState<Schemas['LedgerEntry'][]>([]);
  const [jobs, setJobs] = useState<Schemas['Job'][]>([]);
  const [deposits, setDeposits] = useState<Schemas['Deposit'][] | null>(null);
  const [payouts, setPayouts] = useState<Schemas['Payout'][] | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  useEffect(() => {
    const api = client(key).api;
    const fail = (err: unknown) => setError(describeError(err));
    api.GET('/v1/account').then((r) => setAccount(unwrap(r))).catch(fail);
    api.GET('/v1/account/ledger', { params: { query: { limit: 50 } } }).then((r) => setLedger(unwrap(r).data)).catch(fail);
    api.GET('/v1/jobs', { params: { query: { limit: 200 } } }).then((r) => setJobs(unwrap(r).data)).catch(fail);
    // Deposits and payouts exist where wallet access is on; elsewhere these lists answer an error and stay hidden.
    api.GET('/v1/account/deposits', { params: { query: { limit: 20 } } }).then((r) => setDeposits(r.data ? r.data.data : null));
    api.GET('/v1/account/payouts', { params: { query: { limit: 20 } } }).then((r) => setPayouts(r.data ? r.data.data : null));
  }, [key]);
  const pattern = config.explorer_url_pattern;

  return (
    <>
      <ErrorBox error={error} />
      <section aria-labelledby="balance-heading">
        <h2 id="balance-heading">{account ? account.name : 'Account'}</h2>
        <dl class="totals">
          <dt>Balance</dt>
          <dd data-testid="balance">{account ? credits(account.balance) : '—'}</dd>
          <dt>Held for running jobs</dt>
          <dd>{account ? credits(account.held) : '—'}</dd>
          <dt>Earnings</dt>
          <dd>{account ? credits(account.earnings) : '—'}</dd>
        </dl>
        <BarChart title="Credits spent per day, last 14 days (UTC)" points={usageByDay(jobs)} unit={credits} />
      </section>
      <section aria-labelledby="ledger-heading">
        <h2 id="ledger-heading">Ledger</h2>
        <div class="table-scroll">
          <table>
            <caption>Your newest 50 ledger entries</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Book</th>
                <th scope="col">Amount</th>
                <th scope="col">Balance after</th>
              </tr>
            </thead>
            <tbody>
              {ledger.map((e) => (
                <tr key={e.id}>
                  <td>{e.created_at.replace('T', ' ').slice(0, 19)}</td>
                  <td>{e.kind}</td>
                  <td>{e.book}</td>
                  <td class="num">{credits(e.amount)}</td>
                  <td class="num">{credits(e.balance_after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {deposits ? (
        <section aria-labelledby="deposits-heading">
          <h2 id="deposits-heading">Deposits</h2>
          {deposits.length === 0 ? <p>No deposits yet (README: Wallet access).</p> : null}
          <ul>
            {deposits.map((d) => (
              <li key={d.id}>
                {credits(d.micro_credits)} {d.status} (<ChainValue pattern={pattern} kind="tx" value={d.tx_hash} />)
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {payouts ? (
        <section aria-labelledby="payouts-heading">
          <h2 id="payouts-heading">Payouts</h2>
          {payouts.length === 0 ? <p>No payouts yet.</p> : null}
          <ul>
            {payouts.map((p) => (
              <li key={p.id}>
                {credits(p.amount)} to <ChainValue pattern={pattern} kind="address" value={p.to} /> {p.status}
                {p.tx_hash ? (
                  <>
                    {' '}
                    (<ChainValue pattern={pattern} kind="tx" value={p.tx_hash} />)
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}

export function AccountPage() {
  const { key, setKey } = useSession();
  return (
    <>
      <h1>Account</h1>
      {key ? (
        <>
          <p>
            <button type="button" onClick={() => setKey(null)}>
              Sign out
            </button>
          </p>
          <Overview />
          <Keys />
        </>
      ) : (
        <SignIn />
      )}
    </>
  );
}
