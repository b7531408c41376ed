// The signed-in API key (kept in sessionStorage: gone when the tab closes), the typed client over it,
// the gateway's settings for the app (GET /app-config.json), and errors in words.
import { createContext } from 'preact';
import { useContext, useState } from 'preact/hooks';
import { createGatewayClient, GatewayError, type GatewayClient } from '../../src/client/index.js';

const STORAGE_KEY = 'posthuman.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeKey(key: string | null) {
  if (key) sessionStorage.setItem(STORAGE_KEY, key);
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** A client for this origin, with `key` (an API key) when there is one. */
export function client(key: string | null): GatewayClient {
  return createGatewayClient({ baseUrl: location.origin, apiKey: key ?? undefined });
}

export interface AppConfig {
  explorer_url_pattern: string | null;
  chain_rpc_url: string | null;
}

export async function loadAppConfig(): Promise<AppConfig> {
  const res = await fetch('/app-config.json');
  return res.ok ? ((await res.json()) as AppConfig) : { explorer_url_pattern: null, chain_rpc_url: null };
}

export interface Session {
  key: string | null;
  setKey(key: string | null): void;
  config: AppConfig;
}

export const SessionContext = createContext<Session>({ key: null, setKey: () => {}, config: { explorer_url_pattern: null, chain_rpc_url: null } });

export const useSession = () => useContext(SessionContext);

export interface ShownError {
  detail: string;
  field?: string;
}

/** What to show for a failure: the API's problem `detail` (and the field it names), else the message. */
export function describeError(err: unknown): ShownError {
  if (err instanceof GatewayError && err.problem) {
    return { detail: err.problem.detail ?? `HTTP ${err.status}`, field: err.problem.field ?? undefined };
  }
  if (err instanceof GatewayError) return { detail: `The gateway answered HTTP ${err.status}` };
  return { detail: err instanceof Error ? err.message : String(err) };
}

/** Runs one user action at a time: `running` while it runs, `error` (in words) when it failed. */
export function useAction() {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  const run = async (work: () => Promise<void>) => {
    setRunning(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setRunning(false);
    }
  };
  return { running, error, run };
}
