import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createLocalToken, revokeLocalTokens } from '../../../approvals-ui/local-tokens';
import { createApprovalsService } from '../../../approvals-ui/server';
import type { ApprovalsServiceOptions } from '../../../approvals-ui/server';
import { openStore } from '../../../approvals-ui/store';
import type { ApprovalsStore } from '../../../approvals-ui/store';
import { Catalog } from '../../../catalog/catalog';
import { generateEd25519KeyPair } from '../../../core/ed25519';

/** What the service needs besides Temporal: the catalog, the task queue and its signing key. */
const offline = { catalog: Catalog.load(), taskQueue: 'unit', signingKeyPem: generateEd25519KeyPair().privateKeyPem };

/** The service without Temporal: headers, sign-in, sessions, CSRF, rate limits, Host and error shapes. */
const dir = mkdtempSync(join(tmpdir(), 'mandate-approvals-unit-'));
const tokensFile = join(dir, 'tokens.json');
const samToken = createLocalToken(tokensFile, 'sam@example.com', ['supervisor']);
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const apps: FastifyInstance[] = [];
const stores: ApprovalsStore[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
  for (const store of stores) await store.close();
});

async function service(options: Partial<ApprovalsServiceOptions> = {}) {
  const store = options.store ?? (await openStore('sqlite::memory:'));
  stores.push(store);
  const app = createApprovalsService({ client: {} as Client, ...offline, tokensFile, store, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  apps.push(app);
  return app;
}

/** One HTTP request over a real socket (Fastify's inject needs an ESM-only module jest cannot load). */
async function call(
  app: FastifyInstance,
  req: { method?: string; url: string; payload?: string; headers?: Record<string, string> },
) {
  const { port } = app.server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}${req.url}`, {
    method: req.method ?? 'GET',
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

/** A GET with a Host header of our choosing (fetch sends the URL's own). */
function getWithHost(app: FastifyInstance, path: string, host: string): Promise<{ statusCode: number; body: string }> {
  const { port } = app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function signIn(app: FastifyInstance, token = samToken): Promise<string> {
  const ok = await call(app, { method: 'POST', url: '/login', payload: `token=${token}`, headers: form });
  expect(ok.statusCode).toBe(303);
  return String(ok.headers['set-cookie']).split(';')[0];
}

describe('approvals service (no Temporal)', () => {
  it('sets the security headers (helmet) and serves the script and stylesheet as files', async () => {
    const app = await service();
    const page = await call(app, { url: '/login' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    expect(page.headers).toMatchObject({
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': 'no-store',
    });
    expect(page.body).not.toMatch(/<script>|<style>| on[a-z]+="/);
    expect((await call(app, { url: '/static/app.js' })).headers['content-type']).toMatch(/javascript/);
    expect((await call(app, { url: '/static/..%2fserver.ts' })).statusCode).toBe(404);
  });

  it('signs in with a token into an HttpOnly, SameSite=Strict, Secure __Host- cookie; refuses a bad token', async () => {
    const app = await service();
    const bad = await call(app, { method: 'POST', url: '/login', payload: 'token=mdt_nope', headers: form });
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toMatch(/That token is not valid/);
    const ok = await call(app, { method: 'POST', url: '/login', payload: `token=${samToken}`, headers: form });
    expect(ok.statusCode).toBe(303);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-mandate_session=[\w-]{43};/);
    for (const flag of ['Max-Age=28800', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict'])
      expect(cookie).toContain(flag);
    const session = cookie.split(';')[0];
    const me = await call(app, { url: '/api/me', headers: { cookie: session } });
    expect(me.json()).toMatchObject({ subject: 'sam@example.com', via: 'token' });

    // Signing out needs the CSRF token too; without it the session survives.
    const logout = await call(app, {
      method: 'POST',
      url: '/logout',
      payload: '_csrf=wrong',
      headers: { cookie: session, ...form },
    });
    expect(logout.statusCode).toBe(403);
    expect((await call(app, { url: '/api/me', headers: { cookie: session } })).statusCode).toBe(200);
  });

  it('a session survives a restart and is shared by instances on one store', async () => {
    const store = await openStore(`sqlite:${join(dir, 'shared.db')}`);
    const one = await service({ store });
    const two = await service({ store: await openStore(`sqlite:${join(dir, 'shared.db')}`) });
    const session = await signIn(one);
    expect((await call(two, { url: '/api/me', headers: { cookie: session } })).json()).toMatchObject({
      subject: 'sam@example.com',
    });
    await one.close();
    const again = await service({ store: await openStore(`sqlite:${join(dir, 'shared.db')}`) });
    expect((await call(again, { url: '/api/me', headers: { cookie: session } })).statusCode).toBe(200);
  });

  it('a revoked token ends the sessions made with it at their next request', async () => {
    const app = await service();
    const token = createLocalToken(tokensFile, 'rex@example.com', ['supervisor']);
    const session = await signIn(app, token);
    expect((await call(app, { url: '/api/me', headers: { cookie: session } })).statusCode).toBe(200);
    expect(revokeLocalTokens(tokensFile, { subject: 'REX@example.com' })).toHaveLength(1);
    const after = await call(app, { url: '/api/me', headers: { cookie: session } });
    expect(after).toMatchObject({ statusCode: 401 });
    expect(after.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expect((await call(app, { url: '/', headers: { cookie: session } })).headers.location).toBe('/login');
    expect((await call(app, { url: '/api/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
  });

  it('refuses a cross-site POST (foreign Origin) before any route runs, sign-in included', async () => {
    const app = await service();
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
  });

  it('answers only for allowed Host names (default: localhost names and the public URL)', async () => {
    const app = await service();
    const foreign = await getWithHost(app, '/api/me', 'evil.example.com');
    expect(foreign.statusCode).toBe(421);
    expect(JSON.parse(foreign.body)).toEqual({
      error: { code: 'host_not_allowed', message: expect.stringMatching(/evil/) },
    });
    expect((await getWithHost(app, '/login', 'evil.example.com')).statusCode).toBe(421);
    expect((await getWithHost(app, '/login', 'localhost:1234')).statusCode).toBe(200);
    const listed = await service({ allowedHosts: ['approvals.example.com'] });
    expect((await getWithHost(listed, '/login', 'approvals.example.com')).statusCode).toBe(200);
    expect((await getWithHost(listed, '/login', '127.0.0.1')).statusCode).toBe(421);
  });

  it('rate-limits sign-in attempts, counted in the shared store across instances', async () => {
    const store = await openStore(`sqlite:${join(dir, 'limits.db')}`);
    const one = await service({ store, rateLimits: { login: 3 } });
    const two = await service({ store: await openStore(`sqlite:${join(dir, 'limits.db')}`), rateLimits: { login: 3 } });
    const attempt = (app: FastifyInstance) =>
      call(app, { method: 'POST', url: '/login', payload: 'token=mdt_guess', headers: form });
    const codes = [];
    for (const app of [one, two, one, two]) codes.push((await attempt(app)).statusCode);
    expect(codes).toEqual([401, 401, 401, 429]);
    const limited = await attempt(one);
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited.body).toMatch(/too many sign-in attempts/);
  });

  it('redirects pages to sign-in and answers the API with JSON errors, Fastify errors and empty ids included', async () => {
    const app = await service();
    const page = await call(app, { url: '/' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login');
    const api = await call(app, { url: '/api/queue', headers: { authorization: 'Bearer mdt_nope' } });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toEqual({ error: { code: 'unauthenticated', message: expect.stringMatching(/not valid/) } });
    const decision = await call(app, {
      method: 'POST',
      url: '/missions/m/actions/a1/decision',
      payload: 'decision=approve',
      headers: form,
    });
    expect(decision.statusCode).toBe(401);
    const bearer = { authorization: `Bearer ${samToken}` };
    const json = { ...bearer, 'content-type': 'application/json' };
    const shapes: [string, string, string | undefined, number, string][] = [
      ['GET', '/api/missions/', undefined, 404, 'not_found'],
      ['POST', '/api/missions//actions/a1/decision', '{"decision":"approve"}', 404, 'not_found'],
      ['POST', '/api/missions/m-1/actions//decision', '{"decision":"approve"}', 404, 'not_found'],
      ['GET', `/api/missions/${'x'.repeat(300)}`, undefined, 414, 'bad_request'],
      ['GET', '/api/missions/a%20b', undefined, 400, 'bad_request'],
      ['GET', '/api/missions/%ff', undefined, 400, 'bad_request'],
      ['POST', '/api/missions/m-1/actions/a1/decision', '{"decision":', 400, 'bad_request'],
    ];
    for (const [method, url, payload, status, code] of shapes) {
      const res = await call(app, { method, url, payload, headers: payload ? json : bearer });
      expect({ url, status: res.statusCode, body: res.json() }).toEqual({
        url,
        status,
        body: { error: { code, message: expect.any(String) } },
      });
    }
  });
});
