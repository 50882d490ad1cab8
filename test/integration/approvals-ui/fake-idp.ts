import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal OIDC provider on 127.0.0.1 for the tests: discovery metadata at
 * `/.well-known/openid-configuration`, its JWKS, `/authorize` (signs the configured user in at once
 * and redirects back with a code) and `/token` (checks the client, the redirect URI and the PKCE
 * verifier, and returns an EdDSA ID token carrying the request's nonce). `next` lets a test bend
 * the next ID token (another nonce, a short life) to see the service refuse or expire it.
 */
export interface FakeIdp {
  issuer: string;
  jwksUrl: string;
  clientId: string;
  /** Changes to the next ID token only. */
  next: { nonce?: string; ttlSeconds?: number };
  /** What the provider saw: PKCE challenges, nonces and how often each endpoint was used. */
  seen: { challenges: string[]; nonces: string[]; discovery: number; token: number };
  /** An ID token for the configured user, as a bearer credential (audience = the client id). */
  idToken(claims?: Record<string, unknown>): string;
  close(): Promise<void>;
}

export async function startFakeIdp(user: { sub: string; roles: string[] }, clientId = 'mandate-web'): Promise<FakeIdp> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'idp-1', alg: 'EdDSA', use: 'sig' };
  const codes = new Map<string, { nonce: string; challenge: string; redirectUri: string }>();
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const idp: FakeIdp = {
    issuer: '',
    jwksUrl: '',
    clientId,
    next: {},
    seen: { challenges: [], nonces: [], discovery: 0, token: 0 },
    idToken(claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      const body = {
        iss: idp.issuer,
        aud: clientId,
        sub: user.sub,
        roles: user.roles,
        iat: now,
        exp: now + 300,
        ...claims,
      };
      const input = `${b64({ alg: 'EdDSA', kid: 'idp-1', typ: 'JWT' })}.${b64(body)}`;
      return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', idp.issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      idp.seen.discovery += 1;
      return json(res, 200, {
        issuer: idp.issuer,
        authorization_endpoint: `${idp.issuer}/authorize`,
        token_endpoint: `${idp.issuer}/token`,
        jwks_uri: idp.jwksUrl,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['EdDSA'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
      });
    }
    if (url.pathname === '/jwks.json') return json(res, 200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
        res.statusCode = 400;
        return res.end('bad request');
      }
      const code = randomBytes(12).toString('base64url');
      const redirectUri = q.get('redirect_uri')!;
      idp.seen.challenges.push(q.get('code_challenge')!);
      idp.seen.nonces.push(q.get('nonce') ?? '');
      codes.set(code, { nonce: q.get('nonce')!, challenge: q.get('code_challenge')!, redirectUri });
      res.statusCode = 302;
      res.setHeader(
        'location',
        `${redirectUri}?${new URLSearchParams({ code, state: q.get('state')!, iss: idp.issuer })}`,
      );
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        idp.seen.token += 1;
        const form = new URLSearchParams(body);
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const ok =
          grant &&
          form.get('client_id') === clientId &&
          form.get('redirect_uri') === grant.redirectUri &&
          createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
        if (!ok) return json(res, 400, { error: 'invalid_grant' });
        const { nonce = grant.nonce, ttlSeconds = 300 } = idp.next;
        idp.next = {};
        const now = Math.floor(Date.now() / 1000);
        const idToken = idp.idToken({ nonce, exp: now + ttlSeconds });
        json(res, 200, { id_token: idToken, access_token: 'opaque', token_type: 'Bearer', expires_in: ttlSeconds });
      });
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp.jwksUrl = `${idp.issuer}/jwks.json`;
  return idp;
}
