// Unit test of the error mapping with a bare Fastify app and throwaway routes.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/app-error.js';
import errorHandler from '../../../src/errors/error-handler.js';

async function appWith(handler: () => unknown) {
  const logged: unknown[] = [];
  const app = Fastify({
    logger: { level: 'error', stream: { write: (line: string) => logged.push(JSON.parse(line)) } },
  });
  await app.register(errorHandler);
  app.get('/boom', async () => handler());
  return { app, logged };
}

describe('error handler', () => {
  it('maps an AppError to its catalog status with headers and field', async () => {
    const { app } = await appWith(() => {
      throw new AppError('rate_limited', 'slow down', { headers: { 'Retry-After': '7' }, field: 'x' });
    });
    const res = await app.inject('/boom');
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      type: 'https://posthuman.dev/problems/rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: 'slow down',
      code: 'rate_limited',
      field: 'x',
    });
    expect(res.json().requestId).toBeTruthy();
  });

  it('hides the detail of unexpected errors from the client and logs it', async () => {
    const { app, logged } = await appWith(() => {
      throw new Error('database password is hunter2');
    });
    const res = await app.inject('/boom');
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(res.json().code).toBe('internal');
    expect(JSON.stringify(logged)).toContain('hunter2');
  });
});
