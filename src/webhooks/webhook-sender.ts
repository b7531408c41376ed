// Sends one signed webhook message: a POST with a deadline, through a DNS lookup that refuses
// internal addresses (unless allowed), reading at most the first 1,000 characters of the answer.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isInternalAddress } from './webhook-urls.js';

export interface SendResult {
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  durationMs: number;
}

const MAX_BODY_CHARS = 1000;

function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      const refused = allowPrivate ? undefined : list.find((a) => isInternalAddress(a.address));
      if (refused) return callback(Object.assign(new Error(`${hostname} resolves to an internal address`), { code: 'EWEBHOOKADDR' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      return callback(null, list[0].address, list[0].family);
    });
  };
}

export function sendWebhook(url: URL, body: string, headers: Record<string, string>, options: { timeoutMs: number; allowPrivate: boolean }): Promise<SendResult> {
  const started = performance.now();
  const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
  // An IP literal never reaches the lookup: check it here.
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivate && isIP(literal) !== 0 && isInternalAddress(literal)) {
    return Promise.resolve(done({ statusCode: null, error: `${literal} is an internal address`, responseBody: null }));
  }
  return new Promise((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'PosthumanGateway-Webhooks/1', ...headers },
        lookup: guardedLookup(options.allowPrivate),
        timeout: options.timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_BODY_CHARS) text += chunk;
        });
        res.on('end', () => resolve(done({ statusCode: res.statusCode ?? null, error: null, responseBody: text.slice(0, MAX_BODY_CHARS) })));
        res.on('error', (err) => resolve(done({ statusCode: res.statusCode ?? null, error: err.message, responseBody: text.slice(0, MAX_BODY_CHARS) })));
      },
    );
    // The whole attempt, connection to last byte, is bounded.
    const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (err) => resolve(done({ statusCode: null, error: err.message, responseBody: null })));
    req.on('close', () => clearTimeout(deadline));
    req.end(body);
  });
}
