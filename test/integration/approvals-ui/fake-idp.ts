import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal OIDC provider on 127.0.0.1 for the tests: `/authorize` signs the configured user in at
 * once and redirects back with a code; `/token` checks the PKCE verifier and returns an EdDSA ID
 * token; `/jwks.json` serves the key.
 */
export interface FakeIdp {
  issuer: string;
  jwksUrl: string;
  authorizationUrl: string;
  tokenUrl: string;
  clientId: string;
  close(): Promise<void>;
}

export async function startFakeIdp(user: { sub: string; roles: string[] }, clientId = 'mandate-web'): Promise<FakeIdp> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'idp-1', alg: 'EdDSA', use: 'sig' };
  const codes = new Map<string, { nonce: string; challenge: string; redirectUri: string }>();
  let issuer = '';
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/jwks.json') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ keys: [jwk] }));
    }
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256') {
        res.statusCode = 400;
        return res.end('bad request');
      }
      const code = randomBytes(12).toString('base64url');
      const redirectUri = q.get('redirect_uri')!;
      codes.set(code, { nonce: q.get('nonce')!, challenge: q.get('code_challenge')!, redirectUri });
      res.statusCode = 302;
      res.setHeader('location', `${redirectUri}?${new URLSearchParams({ code, state: q.get('state')! })}`);
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const ok =
          grant &&
          form.get('client_id') === clientId &&
          form.get('redirect_uri') === grant.redirectUri &&
          createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
        res.setHeader('content-type', 'application/json');
        if (!ok) {
          res.statusCode = 400;
          return res.end(JSON.stringify({ error: 'invalid_grant' }));
        }
        const now = Math.floor(Date.now() / 1000);
        const claims = {
          iss: issuer,
          aud: clientId,
          sub: user.sub,
          roles: user.roles,
          nonce: grant.nonce,
          iat: now,
          exp: now + 300,
        };
        const input = `${b64({ alg: 'EdDSA', kid: 'idp-1', typ: 'JWT' })}.${b64(claims)}`;
        const idToken = `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
        res.end(JSON.stringify({ id_token: idToken, token_type: 'Bearer', expires_in: 300 }));
      });
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    authorizationUrl: `${issuer}/authorize`,
    tokenUrl: `${issuer}/token`,
    clientId,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A free TCP port on 127.0.0.1 (the service's OIDC redirect URL must be known before it listens). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
