import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { oidc } from '../../../approvals-ui/oidc';
import { createApprovalsService } from '../../../approvals-ui/server';
import { Catalog } from '../../../catalog/catalog';
import { generateEd25519KeyPair } from '../../../core/ed25519';

/** What the service needs besides Temporal: the catalog, the task queue and its signing key. */
const offline = { catalog: Catalog.load(), taskQueue: 'unit', signingKeyPem: generateEd25519KeyPair().privateKeyPem };

/** OIDC bearer verification against a JWKS served on 127.0.0.1, for each accepted algorithm. */
const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'mandate-approvals';

const keys = {
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: generateKeyPairSync('ed25519'),
};
type Alg = keyof typeof keys;

let server: Server;
let jwksUrl: string;
let jwksHits = 0;

beforeAll(async () => {
  const jwks = {
    keys: (Object.keys(keys) as Alg[]).map((alg) => ({ ...keys[alg].publicKey.export({ format: 'jwk' }), kid: alg })),
  };
  server = createServer((_req, res) => {
    jwksHits += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => new Promise((resolve) => server.close(resolve)));

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function jwt(
  alg: Alg,
  claims: Record<string, unknown>,
  options: { kid?: string; key?: KeyObject; header?: object } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: ISSUER, aud: AUDIENCE, sub: 'sam', exp: now + 300, iat: now, roles: ['supervisor'], ...claims };
  const signingInput = `${b64({ alg, kid: options.kid ?? alg, typ: 'JWT', ...options.header })}.${b64(body)}`;
  const key = options.key ?? keys[alg].privateKey;
  const signature =
    alg === 'EdDSA'
      ? sign(null, Buffer.from(signingInput), key)
      : sign('sha256', Buffer.from(signingInput), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${signingInput}.${signature.toString('base64url')}`;
}

const verifier = () => oidc({ issuer: ISSUER, audience: AUDIENCE, jwksUrl });

describe('OIDC bearer tokens', () => {
  it.each(Object.keys(keys) as Alg[])('accepts a valid %s token: subject and roles from the claims', async (alg) => {
    await expect(verifier().authenticate(jwt(alg, {}))).resolves.toEqual({
      subject: 'sam',
      roles: ['supervisor'],
      via: 'oidc',
    });
  });

  it('takes roles from `groups` when there is no `roles` claim, and an audience list', async () => {
    const token = jwt('ES256', { roles: undefined, groups: ['finance', 7], aud: ['other', AUDIENCE] });
    await expect(verifier().authenticate(token)).resolves.toMatchObject({ roles: ['finance'] });
  });

  it.each<[string, () => string, RegExp]>([
    ['wrong issuer', () => jwt('RS256', { iss: 'https://evil.example.com' }), /wrong issuer/],
    ['wrong audience', () => jwt('RS256', { aud: 'someone-else' }), /wrong audience/],
    ['expired', () => jwt('RS256', { exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ['not yet valid', () => jwt('RS256', { nbf: Math.floor(Date.now() / 1000) + 3600 }), /not yet valid/],
    ['no subject', () => jwt('EdDSA', { sub: '' }), /no subject/],
    [
      'signed by another key',
      () => jwt('RS256', {}, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }),
      /bad signature/,
    ],
    ['alg none', () => `${b64({ alg: 'none', kid: 'RS256' })}.${b64({ sub: 'x' })}.`, /algorithm none/],
    ['HS256', () => `${b64({ alg: 'HS256', kid: 'RS256' })}.${b64({ sub: 'x' })}.c2ln`, /algorithm HS256/],
    ['key of another type', () => jwt('ES256', {}, { kid: 'RS256' }), /not a ES256 key/],
    ['unknown key id', () => jwt('RS256', {}, { kid: 'nope' }), /unknown key nope/],
    ['garbage', () => 'a.b.c', /malformed/],
  ])('refuses a token: %s', async (_name, make, reason) => {
    await expect(verifier().verify(make())).rejects.toThrow(reason);
    await expect(verifier().authenticate(make())).resolves.toBeUndefined();
  });

  it('caches the JWKS and ignores credentials that are not JWTs', async () => {
    const v = verifier();
    const before = jwksHits;
    await v.authenticate(jwt('RS256', {}));
    await v.authenticate(jwt('ES256', {}));
    expect(jwksHits - before).toBe(1);
    await expect(v.authenticate('mdt_local')).resolves.toBeUndefined();
    expect(jwksHits - before).toBe(1);
  });
});

test('the service accepts an OIDC bearer token on the JSON API', async () => {
  const app = createApprovalsService({
    client: {} as Client,
    ...offline,
    oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl },
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
  }
});
