import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { OidcProvider, oidcBearer } from '../../../approvals-ui/oidc';
import { createApprovalsService } from '../../../approvals-ui/server';
import { openStore } from '../../../approvals-ui/store';
import { Catalog } from '../../../catalog/catalog';
import { generateEd25519KeyPair } from '../../../core/ed25519';

/** What the service needs besides Temporal: the catalog, the task queue and its signing key. */
const offline = { catalog: Catalog.load(), taskQueue: 'unit', signingKeyPem: generateEd25519KeyPair().privateKeyPem };

/** OIDC bearer verification (jose) against a JWKS served on 127.0.0.1, for each accepted algorithm. */
const AUDIENCE = 'mandate-approvals';

const keys = {
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: generateKeyPairSync('ed25519'),
};
type Alg = keyof typeof keys;

let server: Server;
let issuer: string;
let jwksHits = 0;
let discoveryHits = 0;

beforeAll(async () => {
  const jwks = {
    keys: (Object.keys(keys) as Alg[]).map((alg) => ({ ...keys[alg].publicKey.export({ format: 'jwk' }), kid: alg })),
  };
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      discoveryHits += 1;
      return res.end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/keys`,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          response_types_supported: ['code'],
        }),
      );
    }
    jwksHits += 1;
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise((resolve) => server.close(resolve)));

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function jwt(
  alg: Alg,
  claims: Record<string, unknown>,
  options: { kid?: string; key?: KeyObject; header?: object } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: issuer, aud: AUDIENCE, sub: 'sam', exp: now + 300, iat: now, roles: ['supervisor'], ...claims };
  const signingInput = `${b64({ alg, kid: options.kid ?? alg, typ: 'JWT', ...options.header })}.${b64(body)}`;
  const key = options.key ?? keys[alg].privateKey;
  const signature =
    alg === 'EdDSA'
      ? sign(null, Buffer.from(signingInput), key)
      : sign('sha256', Buffer.from(signingInput), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Discovery from the issuer alone (no JWKS URL configured). */
const provider = () => new OidcProvider({ issuer, audience: AUDIENCE });

describe('OIDC bearer tokens (jose, keys found through discovery)', () => {
  it.each(Object.keys(keys) as Alg[])('accepts a valid %s token: subject and roles from the claims', async (alg) => {
    const token = jwt(alg, {});
    await expect(oidcBearer(provider()).authenticate(token)).resolves.toEqual({
      principal: { subject: 'sam', roles: ['supervisor'], via: 'oidc' },
      credential: { kind: 'oidc' },
      expiresAt: (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp * 1000,
    });
  });

  it('takes roles from `groups` when there is no `roles` claim, and an audience list', async () => {
    const token = jwt('ES256', { roles: undefined, groups: ['finance', 7], aud: ['other', AUDIENCE] });
    await expect(oidcBearer(provider()).authenticate(token)).resolves.toMatchObject({
      principal: { roles: ['finance'] },
    });
  });

  it.each<[string, () => string, RegExp]>([
    ['wrong issuer', () => jwt('RS256', { iss: 'https://evil.example.com' }), /"iss" claim/],
    ['wrong audience', () => jwt('RS256', { aud: 'someone-else' }), /"aud" claim/],
    ['expired', () => jwt('RS256', { exp: Math.floor(Date.now() / 1000) - 3600 }), /"exp" claim/],
    ['not yet valid', () => jwt('RS256', { nbf: Math.floor(Date.now() / 1000) + 3600 }), /"nbf" claim/],
    ['no subject', () => jwt('EdDSA', { sub: undefined }), /"sub" claim/],
    [
      'signed by another key',
      () => jwt('RS256', {}, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }),
      /signature verification failed/,
    ],
    ['alg none', () => `${b64({ alg: 'none', kid: 'RS256' })}.${b64({ sub: 'x' })}.`, /"alg" .*not allowed/],
    ['HS256', () => `${b64({ alg: 'HS256', kid: 'RS256' })}.${b64({ sub: 'x' })}.c2ln`, /"alg" .*not allowed/],
    ['key of another type', () => jwt('ES256', {}, { kid: 'RS256' }), /no applicable key|matching/i],
    ['unknown key id', () => jwt('RS256', {}, { kid: 'nope' }), /no applicable key|matching/i],
    ['garbage', () => 'a.b.c', /Invalid|JWS/],
  ])('refuses a token: %s', async (_name, make, reason) => {
    await expect(provider().verify(make())).rejects.toThrow(reason);
    await expect(oidcBearer(provider()).authenticate(make())).resolves.toBeUndefined();
  });

  it('discovers once, caches the JWKS and ignores credentials that are not JWTs', async () => {
    const p = provider();
    const bearer = oidcBearer(p);
    const [jwksBefore, discoveryBefore] = [jwksHits, discoveryHits];
    await bearer.authenticate(jwt('RS256', {}));
    await bearer.authenticate(jwt('ES256', {}));
    expect([jwksHits - jwksBefore, discoveryHits - discoveryBefore]).toEqual([1, 1]);
    await expect(bearer.authenticate('mdt_local')).resolves.toBeUndefined();
    expect(jwksHits - jwksBefore).toBe(1);
  });

  it('uses MANDATE_OIDC_JWKS_URL and explicit endpoints without discovery when given', async () => {
    const before = discoveryHits;
    const p = new OidcProvider({
      issuer,
      audience: AUDIENCE,
      jwksUrl: `${issuer}/keys`,
      login: {
        clientId: AUDIENCE,
        redirectUrl: 'http://localhost/login/oidc/callback',
        authorizationUrl: `${issuer}/authorize`,
        tokenUrl: `${issuer}/token`,
      },
    });
    await expect(p.verify(jwt('EdDSA', {}))).resolves.toMatchObject({ sub: 'sam' });
    expect((await p.configuration()).serverMetadata().token_endpoint).toBe(`${issuer}/token`);
    expect(discoveryHits).toBe(before);
  });
});

test('the service accepts an OIDC bearer token on the JSON API', async () => {
  const store = await openStore('sqlite::memory:');
  const app = createApprovalsService({
    client: {} as Client,
    ...offline,
    store,
    oidc: { issuer, audience: AUDIENCE },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const me = await fetch(`${base}/api/me`, {
      headers: { authorization: `Bearer ${jwt('EdDSA', { sub: 'oidc-sam' })}` },
    });
    expect(await me.json()).toMatchObject({ subject: 'oidc-sam', roles: ['supervisor'], via: 'oidc' });
    const wrong = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${jwt('EdDSA', { aud: 'x' })}` } });
    expect(wrong.status).toBe(401);
  } finally {
    await app.close();
    await store.close();
  }
});
