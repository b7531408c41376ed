// The marketplace web app: Market, Playground and Account pages under hash routes (#/market, …), so
// the gateway serves one page at / and no app path can shadow an API route.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AccountPage } from './account.js';
import { MarketPage } from './market.js';
import { PlaygroundPage } from './playground.js';
import { type AppConfig, loadAppConfig, SessionContext, storedKey, storeKey } from './session.js';
import './styles.css';

const PAGES = [
  { path: '/market', label: 'Market' },
  { path: '/playground', label: 'Playground' },
  { path: '/account', label: 'Account' },
] as const;

function currentRoute(): { path: string; query: URLSearchParams } {
  const [path, query = ''] = (location.hash.replace(/^#/, '') || '/market').split('?');
  return { path, query: new URLSearchParams(query) };
}

function App({ config }: { config: AppConfig }) {
  const [route, setRoute] = useState(currentRoute);
  const [key, setKeyState] = useState(storedKey);
  useEffect(() => {
    const onHash = () => {
      setRoute(currentRoute());
      // A page change moves focus to the new page's heading, as a full page load would.
      requestAnimationFrame(() => document.getElementById('main')?.focus());
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const setKey = (next: string | null) => {
    storeKey(next);
    setKeyState(next);
  };
  const page =
    route.path === '/playground' ? <PlaygroundPage query={route.query} /> : route.path === '/account' ? <AccountPage /> : <MarketPage />;
  return (
    <SessionContext.Provider value={{ key, setKey, config }}>
      {/* A button, not a #main link: the hash holds the route. */}
      <button type="button" class="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="site-header">
        <a class="brand" href="#/market">
          Posthuman
        </a>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#${p.path}`} aria-current={route.path === p.path || (p.path === '/market' && !PAGES.some((x) => x.path === route.path)) ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" aria-live="polite">
          {key ? 'Signed in' : 'Not signed in'}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <footer class="site-footer">
        <a href="/docs">API reference</a> · <a href="/.well-known/posthuman-marketplace.json">Marketplace identity</a>
      </footer>
    </SessionContext.Provider>
  );
}

loadAppConfig().then((config) => render(<App config={config} />, document.getElementById('app') as HTMLElement));
