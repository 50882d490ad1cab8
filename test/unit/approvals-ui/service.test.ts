import { mkdtempSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createLocalToken, localTokens } from '../../../approvals-ui/local-tokens';
import { RateLimiter } from '../../../approvals-ui/rate-limit';
import { createApprovalsService } from '../../../approvals-ui/server';
import { readCookie } from '../../../approvals-ui/session';
import { Catalog } from '../../../catalog/catalog';
import { generateEd25519KeyPair } from '../../../core/ed25519';

/** What the service needs besides Temporal: the catalog, the task queue and its signing key. */
const offline = { catalog: Catalog.load(), taskQueue: 'unit', signingKeyPem: generateEd25519KeyPair().privateKeyPem };

/** The service without Temporal: headers, sign-in, sessions, CSRF and rate limits (routes that need no client). */
const dir = mkdtempSync(join(tmpdir(), 'mandate-approvals-unit-'));
const tokensFile = join(dir, 'tokens.json');
const samToken = createLocalToken(tokensFile, 'sam@example.com', ['supervisor']);

async function service(rateLimits = {}) {
  const app = createApprovalsService({ client: {} as Client, ...offline, tokensFile, rateLimits });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

/** One HTTP request over a real socket (Fastify's inject needs an ESM-only module jest cannot load). */
async function call(
  app: FastifyInstance,
  req: { method: string; url: string; payload?: string; headers?: Record<string, string> },
) {
  const { port } = app.server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}${req.url}`, {
    method: req.method,
    headers: req.headers,
    body: req.payload,
    redirect: 'manual',
  });
  const body = await res.text();
  return {
    statusCode: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    body,
    json: () => JSON.parse(body) as unknown,
  };
}

describe('local tokens', () => {
  it('stores only hashes, 0600, and authenticates the token; re-reads the file when it changes', async () => {
    expect(statSync(tokensFile).mode & 0o777).toBe(0o600);
    const auth = localTokens(tokensFile);
    await expect(auth.authenticate(samToken)).resolves.toEqual({
      subject: 'sam@example.com',
      roles: ['supervisor'],
      via: 'token',
    });
    await expect(auth.authenticate(`${samToken}x`)).resolves.toBeUndefined();
    await expect(auth.authenticate('eyJ.x.y')).resolves.toBeUndefined();
    const later = createLocalToken(tokensFile, 'fin@example.com', ['finance']);
    await expect(auth.authenticate(later)).resolves.toMatchObject({ subject: 'fin@example.com' });
  });
});

describe('rate limiter', () => {
  it('allows `limit` attempts per window, then says how long to wait', () => {
    const limiter = new RateLimiter(2, 10_000);
    expect([limiter.take('a', 0), limiter.take('a', 1), limiter.take('a', 2)]).toEqual([0, 0, 10]);
    expect(limiter.take('b', 2)).toBe(0);
    expect(limiter.take('a', 10_001)).toBe(0);
  });
});

describe('approvals service (no Temporal)', () => {
  it('sets the security headers and serves the script and stylesheet as files', async () => {
    const app = await service();
    const page = await call(app, { method: 'GET', url: '/login' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    expect(page.headers).toMatchObject({ 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff' });
    expect(page.body).not.toMatch(/<script>|<style>| on[a-z]+="/);
    expect((await call(app, { method: 'GET', url: '/static/app.js' })).headers['content-type']).toMatch(/javascript/);
    expect((await call(app, { method: 'GET', url: '/static/..%2fserver.ts' })).statusCode).toBe(404);
    await app.close();
  });

  it('signs in with a token into an HttpOnly, SameSite=Strict, Secure __Host- cookie; refuses a bad token', async () => {
    const app = await service();
    const bad = await call(app, {
      method: 'POST',
      url: '/login',
      payload: 'token=mdt_nope',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toMatch(/That token is not valid/);
    const ok = await call(app, {
      method: 'POST',
      url: '/login',
      payload: `token=${samToken}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(ok.statusCode).toBe(303);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(
      /^__Host-mandate_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$/,
    );
    const session = `__Host-mandate_session=${readCookie(cookie.split(';')[0], '__Host-mandate_session')}`;
    const me = await call(app, { method: 'GET', url: '/api/me', headers: { cookie: session } });
    expect(me.json()).toMatchObject({ subject: 'sam@example.com', via: 'token' });

    // Signing out needs the CSRF token too; without it the session survives.
    const logout = await call(app, {
      method: 'POST',
      url: '/logout',
      payload: '_csrf=wrong',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(logout.statusCode).toBe(403);
    expect((await call(app, { method: 'GET', url: '/api/me', headers: { cookie: session } })).statusCode).toBe(200);
    await app.close();
  });

  it('refuses a cross-site POST (foreign Origin) before any route runs, sign-in included', async () => {
    const app = await service();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const foreign = await call(app, {
      method: 'POST',
      url: '/login',
      payload: `token=${samToken}`,
      headers: { ...form, origin: 'https://evil.example.com' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.headers['set-cookie']).toBeUndefined();
    const { port } = app.server.address() as AddressInfo;
    const same = await call(app, {
      method: 'POST',
      url: '/login',
      payload: `token=${samToken}`,
      headers: { ...form, origin: `http://127.0.0.1:${port}` },
    });
    expect(same.statusCode).toBe(303);
    await app.close();
  });

  it('rate-limits sign-in attempts', async () => {
    const app = await service({ login: 3 });
    const attempt = () =>
      call(app, {
        method: 'POST',
        url: '/login',
        payload: 'token=mdt_guess',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await attempt()).statusCode);
    expect(codes).toEqual([401, 401, 401, 429]);
    await app.close();
  });

  it('redirects pages to sign-in and answers the API with JSON errors', async () => {
    const app = await service();
    const page = await call(app, { method: 'GET', url: '/' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login');
    const api = await call(app, { method: 'GET', url: '/api/queue', headers: { authorization: 'Bearer mdt_nope' } });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toEqual({ error: { code: 'unauthenticated', message: expect.stringMatching(/not valid/) } });
    const form = await call(app, {
      method: 'POST',
      url: '/missions/m/actions/a1/decision',
      payload: 'decision=approve',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(401);
    await app.close();
  });
});
