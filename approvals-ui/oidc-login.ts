import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { OidcLoginOptions } from '../config';
import { html } from './app';
import { oidc } from './oidc';
import { loginPage } from './pages';
import type { RateLimiter } from './rate-limit';
import type { SessionStore } from './session';
import { readCookie } from './session';

/**
 * Browser sign-in with an OIDC provider: authorization code flow with PKCE, `state` bound to a
 * short-lived cookie and `nonce` checked in the ID token, which is verified against the JWKS like
 * any bearer token (audience = the client id).
 */

const FLOW_TTL_MS = 10 * 60 * 1000;
const FLOW_COOKIE = 'mandate_oidc_state';

export function registerOidcLogin(
  app: FastifyInstance,
  options: OidcLoginOptions,
  sessions: SessionStore,
  limiter: RateLimiter,
  secure: boolean,
): void {
  const idTokens = oidc({ issuer: options.issuer, audience: options.clientId, jwksUrl: options.jwksUrl });
  const flows = new Map<string, { verifier: string; nonce: string; expiresAt: number }>();

  app.get('/login/oidc', async (_request, reply) => {
    const now = Date.now();
    for (const [k, f] of flows) if (f.expiresAt < now) flows.delete(k);
    const state = randomBytes(24).toString('base64url');
    const flow = { verifier: randomBytes(32).toString('base64url'), nonce: randomBytes(16).toString('base64url') };
    flows.set(state, { ...flow, expiresAt: now + FLOW_TTL_MS });
    const url = new URL(options.authorizationUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: options.clientId,
      redirect_uri: options.redirectUrl,
      scope: 'openid profile email',
      state,
      nonce: flow.nonce,
      code_challenge: createHash('sha256').update(flow.verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    reply.header(
      'set-cookie',
      `${FLOW_COOKIE}=${state}; Path=/login/oidc; HttpOnly; SameSite=Lax; Max-Age=600${secure ? '; Secure' : ''}`,
    );
    return reply.redirect(url.toString(), 303);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/login/oidc/callback', async (request, reply) => {
    const fail = (status: number, message: string) => html(reply, status, loginPage(message, true));
    const wait = limiter.take(request.ip);
    if (wait) return fail(429, `Too many sign-in attempts: try again in ${wait}s.`);
    const { code, state, error } = request.query;
    if (error) return fail(401, `The identity provider refused the sign-in (${error}).`);
    const flow = state ? flows.get(state) : undefined;
    if (!code || !state || !flow || readCookie(request.headers.cookie, FLOW_COOKIE) !== state) {
      return fail(400, 'This sign-in link is not valid any more: start again.');
    }
    flows.delete(state);
    const response = await fetch(options.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: options.redirectUrl,
        client_id: options.clientId,
        code_verifier: flow.verifier,
        ...(options.clientSecret ? { client_secret: options.clientSecret } : {}),
      }),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    const tokens = response?.ok ? ((await response.json()) as { id_token?: string }) : undefined;
    if (!tokens?.id_token) return fail(502, 'The identity provider did not return an ID token.');
    const claims = await idTokens.verify(tokens.id_token).catch(() => undefined);
    if (!claims || claims.nonce !== flow.nonce)
      return fail(401, 'The ID token from the identity provider is not valid.');
    const principal = await idTokens.authenticate(tokens.id_token);
    if (!principal) return fail(401, 'The ID token from the identity provider is not valid.');
    sessions.create(principal, reply);
    // A page, not a redirect: a SameSite=Strict cookie is not sent on a redirect chain that began cross-site.
    return html(reply, 200, signedInPage());
  });
}

function signedInPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Signed in · Mandate approvals</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main><p>Signed in. <a href="/">Continue to the Decision Queue</a>.</p></main></body></html>`;
}
