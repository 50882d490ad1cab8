import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import type { CodecAccess } from '../../../approvals-ui/codec-server';
import { createCodecServer } from '../../../approvals-ui/codec-server';
import { anyOf } from '../../../approvals-ui/auth';
import { createLocalToken, localTokens, revokeLocalTokens } from '../../../approvals-ui/local-tokens';
import { OidcProvider, oidcBearer } from '../../../approvals-ui/oidc';
import type { ApprovalsStore } from '../../../approvals-ui/store';
import { openStore } from '../../../approvals-ui/store';
import { KeyRing, payloadFromJson, payloadToJson } from '../../../core/payload-encryption';
import type { PayloadJson } from '../../../core/payload-encryption';

/** The codec server over real HTTP on 127.0.0.1: protocol, authentication, roles, CORS and the sign-in cookie. */
const ring = new KeyRing([['k1', Buffer.alloc(32, 1)]], 'k1');
const UI = 'http://127.0.0.1:8233';
const tokensFile = join(mkdtempSync(join(tmpdir(), 'mandate-codec-')), 'tokens.json');
const reader = createLocalToken(tokensFile, 'ada@example.com', ['decrypt']);
const approver = createLocalToken(tokensFile, 'sam@example.com', ['supervisor']);
const access: CodecAccess[] = [];
let app: FastifyInstance;
let store: ApprovalsStore;
let url: string;

// An OIDC provider's signing key and JWKS endpoint: the approvals service's OIDC is accepted too.
const idpKey = generateKeyPairSync('ed25519');
const ISSUER = 'https://idp.example.com';
let jwks: Server;
function jwt(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${b64({ alg: 'EdDSA', kid: 'k' })}.${b64({ iss: ISSUER, aud: 'mandate', exp: Math.floor(Date.now() / 1000) + 300, ...claims })}`;
  return `${body}.${sign(null, Buffer.from(body), idpKey.privateKey).toString('base64url')}`;
}

beforeAll(async () => {
  jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [{ ...idpKey.publicKey.export({ format: 'jwk' }), kid: 'k' }] }));
  });
  await new Promise<void>((done) => jwks.listen(0, '127.0.0.1', done));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  store = await openStore('sqlite::memory:');
  app = createCodecServer({
    ring,
    store,
    auth: anyOf([
      localTokens(tokensFile),
      oidcBearer(new OidcProvider({ issuer: ISSUER, audience: 'mandate', jwksUrl })),
    ]),
    roles: ['decrypt'],
    origins: [UI],
    secureCookies: false,
    onAccess: (e) => access.push(e),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
  await store.close();
  await new Promise((done) => jwks.close(done));
});

const secret = { customer: 'Ada Lovelace', note: 'CANARY-c0dec' };
const sealed = (): PayloadJson => payloadToJson(ring.encrypt(defaultPayloadConverter.toPayload(secret)));
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    redirect: 'manual',
  });
const decoded = async (res: Response) =>
  ((await res.json()) as { payloads: PayloadJson[] }).payloads.map((p) =>
    defaultPayloadConverter.fromPayload(payloadFromJson(p)),
  );

test('POST /decode with a token carrying the role answers the payloads in plaintext, and records who read them', async () => {
  const res = await post(
    '/decode',
    { payloads: [sealed(), sealed()] },
    { authorization: `Bearer ${reader}`, 'x-namespace': 'default' },
  );
  expect(res.status).toBe(200);
  expect(await decoded(res)).toEqual([secret, secret]);
  expect(access.at(-1)).toMatchObject({
    operation: 'decode',
    subject: 'ada@example.com',
    via: 'token',
    namespace: 'default',
    payloads: 2,
  });
});

test('POST /encode encrypts under the current key (what `temporal workflow signal` with a codec sends)', async () => {
  const plain = payloadToJson(defaultPayloadConverter.toPayload(secret));
  const res = await post('/encode', { payloads: [plain] }, { authorization: `Bearer ${reader}` });
  const [payload] = ((await res.json()) as { payloads: PayloadJson[] }).payloads;
  expect(Buffer.from(payload.data!, 'base64').includes('CANARY-c0dec')).toBe(false);
  expect(defaultPayloadConverter.fromPayload(ring.decrypt(payloadFromJson(payload)))).toEqual(secret);
});

test('no token, a bad token, or a token without the role is refused, and nothing is decoded', async () => {
  const none = await post('/decode', { payloads: [sealed()] });
  expect(none.status).toBe(401);
  expect(JSON.stringify(await none.json())).not.toContain('CANARY');
  const bad = await post('/decode', { payloads: [sealed()] }, { authorization: 'Bearer mdt_nope' });
  expect(bad.status).toBe(401);
  const wrongRole = await post('/decode', { payloads: [sealed()] }, { authorization: `Bearer ${approver}` });
  expect(wrongRole.status).toBe(403);
  expect(await wrongRole.json()).toEqual({
    error: { code: 'forbidden', message: 'sam@example.com holds none of the roles decrypt' },
  });
});

test('an OIDC JWT works like a token: it needs the role in its roles claim', async () => {
  const reader = await post(
    '/decode',
    { payloads: [sealed()] },
    { authorization: `Bearer ${jwt({ sub: 'olga@example.com', roles: ['decrypt'] })}` },
  );
  expect(reader.status).toBe(200);
  expect(await decoded(reader)).toEqual([secret]);
  expect(access.at(-1)).toMatchObject({ subject: 'olga@example.com', via: 'oidc' });
  const approver = await post(
    '/decode',
    { payloads: [sealed()] },
    { authorization: `Bearer ${jwt({ sub: 'olga@example.com', roles: ['supervisor'] })}` },
  );
  expect(approver.status).toBe(403);
  const forged = jwt({ sub: 'olga@example.com', roles: ['decrypt'] }).replace(/\.[^.]+$/, '.AAAA');
  expect((await post('/decode', { payloads: [sealed()] }, { authorization: `Bearer ${forged}` })).status).toBe(401);
});

test('browsers: the Web UI origin gets CORS with credentials; any other origin is refused, even with a valid token', async () => {
  const preflight = await fetch(`${url}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: UI,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace',
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
  expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
  expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');

  const foreignPreflight = await fetch(`${url}/decode`, {
    method: 'OPTIONS',
    headers: { origin: 'http://evil.example' },
  });
  expect(foreignPreflight.status).toBe(403);
  expect(foreignPreflight.headers.get('access-control-allow-origin')).toBeNull();
  const foreign = await post(
    '/decode',
    { payloads: [sealed()] },
    { origin: 'http://evil.example', authorization: `Bearer ${reader}` },
  );
  expect(foreign.status).toBe(403);
  expect(await foreign.json()).toMatchObject({ error: { code: 'origin_refused' } });
  const nullOrigin = await post(
    '/decode',
    { payloads: [sealed()] },
    { origin: 'null', authorization: `Bearer ${reader}` },
  );
  expect(nullOrigin.status).toBe(403);

  const fromUi = await post('/decode', { payloads: [sealed()] }, { origin: UI, authorization: `Bearer ${reader}` });
  expect(fromUi.status).toBe(200);
  expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI);
});

test('sign-in page: a token with the role gets a session cookie the Web UI can send; sign-out ends it', async () => {
  const form = (token: string, origin = url) =>
    fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });
  expect((await form(approver)).status).toBe(403);
  expect((await form('mdt_wrong')).status).toBe(401);
  expect((await form(reader, 'http://evil.example')).status).toBe(403); // no login CSRF
  const signedIn = await form(reader);
  expect(signedIn.status).toBe(303);
  const cookie = signedIn.headers.get('set-cookie')!;
  expect(cookie).toMatch(/^mandate_codec_session=[^;]+;/);
  expect(cookie).toMatch(/; Path=\/;.*HttpOnly; SameSite=Strict/);
  const session = cookie.split(';')[0];

  const home = await (await fetch(url, { headers: { cookie: session } })).text();
  expect(home).toContain('Signed in as <strong>ada@example.com</strong>');
  const viaCookie = await post('/decode', { payloads: [sealed()] }, { origin: UI, cookie: session });
  expect(viaCookie.status).toBe(200);
  expect(await decoded(viaCookie)).toEqual([secret]);
  expect(access.at(-1)).toMatchObject({ subject: 'ada@example.com', via: 'session' });
  // The session cookie does not make a foreign origin acceptable.
  expect(
    (await post('/decode', { payloads: [sealed()] }, { origin: 'http://evil.example', cookie: session })).status,
  ).toBe(403);

  const out = await fetch(`${url}/logout`, {
    method: 'POST',
    headers: { cookie: session, origin: url },
    redirect: 'manual',
  });
  expect(out.status).toBe(303);
  expect((await post('/decode', { payloads: [sealed()] }, { origin: UI, cookie: session })).status).toBe(401);
});

test('revoking a token ends the codec sessions made with it at the next request', async () => {
  const grace = createLocalToken(tokensFile, 'grace@example.com', ['decrypt']);
  const signedIn = await fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    body: new URLSearchParams({ token: grace }).toString(),
    redirect: 'manual',
  });
  expect(signedIn.status).toBe(303);
  const session = signedIn.headers.get('set-cookie')!.split(';')[0];
  expect((await post('/decode', { payloads: [sealed()] }, { origin: UI, cookie: session })).status).toBe(200);
  expect(revokeLocalTokens(tokensFile, { subject: 'grace@example.com' })).toHaveLength(1);
  expect((await post('/decode', { payloads: [sealed()] }, { origin: UI, cookie: session })).status).toBe(401);
});

test('a payload under an unknown key id is refused with a message naming the key id; bad bodies are 400', async () => {
  const other = new KeyRing([['k9', Buffer.alloc(32, 9)]], 'k9');
  const foreignKey = payloadToJson(other.encrypt(defaultPayloadConverter.toPayload(secret)));
  const res = await post('/decode', { payloads: [foreignKey] }, { authorization: `Bearer ${reader}` });
  expect(res.status).toBe(422);
  expect(await res.json()).toMatchObject({
    error: { code: 'unknown_key', message: expect.stringContaining('key id "k9"') },
  });
  expect(access.at(-1)).toMatchObject({ error: expect.stringContaining('k9') });
  expect((await post('/decode', { nope: true }, { authorization: `Bearer ${reader}` })).status).toBe(400);
});
