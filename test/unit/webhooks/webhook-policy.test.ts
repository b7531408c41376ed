import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../src/webhooks/webhook-dispatcher.js';
import { sendWebhook } from '../../../src/webhooks/webhook-sender.js';
import { newWebhookSecret, signMessage } from '../../../src/webhooks/webhook-signing.js';
import { checkWebhookUrl, isInternalAddress } from '../../../src/webhooks/webhook-urls.js';

describe('webhook retries', () => {
  it('doubles the wait after each failed attempt, capped at an hour, with at most 10% jitter', () => {
    const none = () => 0;
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 5000, none))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(retryDelayMs(30, 5000, none)).toBe(3_600_000);
    expect(retryDelayMs(1, 5000, () => 0.999)).toBeLessThanOrEqual(5500);
  });
});

describe('webhook addresses', () => {
  it('tells internal addresses from public ones', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect(isInternalAddress(ip), ip).toBe(true);
    }
    for (const ip of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '172.32.0.1']) expect(isInternalAddress(ip), ip).toBe(false);
  });

  it('refuses URLs that are not http(s), carry credentials or name an internal host, unless private URLs are allowed', () => {
    for (const url of ['ftp://example.com/x', 'https://user:pw@example.com/', 'http://localhost:8080/', 'http://127.0.0.1/', 'http://[::1]/', 'http://169.254.169.254/latest', 'not a url']) {
      expect(() => checkWebhookUrl(url, false), url).toThrow(expect.objectContaining({ code: 'validation_failed', field: 'body.url' }));
    }
    expect(checkWebhookUrl('https://example.com/hooks', false).hostname).toBe('example.com');
    expect(checkWebhookUrl('http://127.0.0.1:9/hooks', true).port).toBe('9');
  });

  it('does not connect to an internal address at send time, by name or literal', async () => {
    let reached = 0;
    const server = createServer((_req, res) => {
      reached++;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const host of ['localhost', '127.0.0.1']) {
        const result = await sendWebhook(new URL(`http://${host}:${port}/`), '{}', {}, { timeoutMs: 2000, allowPrivate: false });
        expect(result.statusCode).toBeNull();
        expect(result.error).toMatch(/internal address/);
      }
      expect(reached).toBe(0);
      const allowed = await sendWebhook(new URL(`http://127.0.0.1:${port}/`), '{}', {}, { timeoutMs: 2000, allowPrivate: true });
      expect(allowed.statusCode).toBe(200);
      expect(reached).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('webhook signatures', () => {
  it('signs with every secret given, so a receiver holding either verifies', () => {
    const [old, fresh] = [newWebhookSecret(), newWebhookSecret()];
    const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { id: 'x' } });
    const headers = signMessage('msg_1', new Date(), body, [fresh, old]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [old, fresh]) expect(new Webhook(secret).verify(body, { ...headers })).toMatchObject({ data: { id: 'x' } });
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(fresh).verify(`${body} `, { ...headers })).toThrow();
  });
});
