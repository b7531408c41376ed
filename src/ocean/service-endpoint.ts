// The compute service's endpoint is written into every public DDO: on a real network it must be a
// URL the world can reach, never a loopback or private address that only works on this machine.
import { isIP } from 'node:net';
import { OceanError } from './ocean-error.js';

/** Chains that only exist on a developer's machine: ocean.js `development` (8996), hardhat, ganache. */
export const LOCAL_CHAIN_IDS: ReadonlySet<number> = new Set([8996, 31337, 1337]);

export const isLocalChainId = (chainId: number) => LOCAL_CHAIN_IDS.has(chainId);

/** Hosts that name this machine or a private network: fine on a local chain, wrong in a public DDO. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return true;
  if (!host.includes('.') && !host.includes(':')) return true; // a bare name resolves on one network only
  const kind = isIP(host);
  if (kind === 4) {
    const [a, b] = host.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (kind === 6) {
    if (host === '::' || host === '::1') return true;
    if (host.startsWith('::ffff:')) return isPrivateHost(host.slice(7));
    return /^(fc|fd|fe8|fe9|fea|feb)/.test(host);
  }
  return false;
}

/**
 * The endpoint to publish on `chainId`, normalised (no trailing slash). Throws `config_invalid`
 * naming `variable` when it is not an http(s) URL, or names a private host on a public network.
 */
export function checkServiceEndpoint(endpoint: string | undefined, chainId: number, variable = 'OCEAN_SERVICE_ENDPOINT'): string {
  const local = isLocalChainId(chainId);
  if (!endpoint) {
    throw new OceanError('config_invalid', `${variable}: required on chain ${chainId} (the public URL of this gateway, written into every DDO)`);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new OceanError('config_invalid', `${variable}: "${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OceanError('config_invalid', `${variable}: must be an http(s) URL`);
  if (url.username || url.password || url.search || url.hash) {
    throw new OceanError('config_invalid', `${variable}: must hold no credentials, query or fragment (it is published)`);
  }
  if (!local && isPrivateHost(url.hostname)) {
    throw new OceanError(
      'config_invalid',
      `${variable}: ${url.hostname} is a loopback or private address; chain ${chainId} is public, so its DDOs need this gateway's public URL (set OCEAN_SERVICE_ENDPOINT or PUBLIC_BASE_URL)`,
    );
  }
  return url.href.replace(/\/+$/, '');
}
