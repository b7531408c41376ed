// Where webhooks may be sent. Accounts choose the URLs, so by default nothing on loopback, private,
// link-local or otherwise internal addresses is reachable through them (the gateway's own network:
// Postgres, Redis, the chain's RPC, cloud metadata). The address is checked when the endpoint is
// registered and again for every connection (a DNS answer may change in between).
import { isIP } from 'node:net';
import { AppError } from '../errors/app-error.js';

function ipv4Internal(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

/** Whether an IP address is one a webhook must not reach unless private URLs are allowed. */
export function isInternalAddress(ip: string): boolean {
  const version = isIP(ip);
  if (version === 4) return ipv4Internal(ip);
  if (version !== 6) return true;
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return ipv4Internal(mapped[1]);
  return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith('ff');
}

/** Parses an endpoint URL: http(s), no credentials; a literal internal address is refused here already. */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('validation_failed', 'url is not a valid URL', { field: 'body.url' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('validation_failed', 'url must use https (or http)', { field: 'body.url' });
  }
  if (url.username || url.password) throw new AppError('validation_failed', 'url must not hold credentials', { field: 'body.url' });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isInternalAddress(host)))) {
    throw new AppError('validation_failed', 'url points at an internal address; webhooks go to public endpoints', { field: 'body.url' });
  }
  return url;
}
