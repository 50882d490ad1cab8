import type { FastifyInstance } from 'fastify';
import * as openid from 'openid-client';
import type { OidcLoginOptions } from '../config';
import { html } from './app';
import type { Identities } from './identity';
import { OidcProvider } from './oidc';
import { loginPage } from './pages';
import type { RateLimits } from './rate-limit';
import { signInLimit } from './rate-limit';
import { DeskError } from './refusals';
import type { ApprovalsStore } from './store';

/**
 * Browser sign-in with the OIDC provider, by `openid-client`: the authorization code flow with
 * PKCE (S256), `state` bound to a short-lived cookie and `nonce` checked in the ID token, which is
 * then verified with `jose` against the provider's keys like any bearer token (audience = the client
 * id). The flow's secrets wait in the shared store, so the provider may send the browser back to
 * any instance. The session ends when the ID token expires.
 */
const FLOW_TTL_MS = 10 * 60 * 1000;
const FLOW_COOKIE = 'mandate_oidc_state';

interface Flow {
  verifier: string;
  nonce: string;
}

export function registerOidcLogin(
  app: FastifyInstance,
  deps: {
    provider: OidcProvider;
    login: OidcLoginOptions;
    identities: Identities;
    store: ApprovalsStore;
    limits: Required<RateLimits>;
    secure: boolean;
  },
): void {
  const { provider, login, store } = deps;
  const page = (message: string) => loginPage(message, true);

  app.get('/login/oidc', async (_request, reply) => {
    const config = await provider.configuration().catch((err: Error) => {
      throw new DeskError('internal', `the identity provider cannot be reached: ${err.message}`);
    });
    const state = openid.randomState();
    const flow: Flow = { verifier: openid.randomPKCECodeVerifier(), nonce: openid.randomNonce() };
    await store.put(`oidc-flow:${state}`, JSON.stringify(flow), FLOW_TTL_MS);
    const url = openid.buildAuthorizationUrl(config, {
      redirect_uri: login.redirectUrl,
      scope: 'openid profile email',
      state,
      nonce: flow.nonce,
      code_challenge: await openid.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
    });
    // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    void reply.setCookie(FLOW_COOKIE, state, {
      path: '/login/oidc',
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.secure,
      maxAge: FLOW_TTL_MS / 1000,
    });
    return reply.redirect(url.href, 303);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/login/oidc/callback',
    {
      config: {
        rateLimit: signInLimit(deps.limits),
        refusalPage: (_request, _reply, err) => page(`Refused (${err.code}): ${err.message}.`),
      },
    },
    async (request, reply) => {
      const { state, error } = request.query;
      if (error) return html(reply, 401, page(`The identity provider refused the sign-in (${error}).`));
      // One use per flow, and only in the browser that started it.
      const stored =
        state && request.cookies[FLOW_COOKIE] === state ? await store.take(`oidc-flow:${state}`) : undefined;
      if (!state || !stored) return html(reply, 400, page('This sign-in link is not valid any more: start again.'));
      void reply.clearCookie(FLOW_COOKIE, { path: '/login/oidc' });
      const flow = JSON.parse(stored) as Flow;
      const callbackUrl = new URL(login.redirectUrl);
      callbackUrl.search = new URL(request.url, 'http://callback').search;
      const tokens = await openid
        .authorizationCodeGrant(await provider.configuration(), callbackUrl, {
          pkceCodeVerifier: flow.verifier,
          expectedState: state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        })
        .catch((err: Error) => {
          request.log.warn({ err }, 'OIDC code exchange refused');
          return undefined;
        });
      const claims = tokens?.id_token
        ? await provider.verify(tokens.id_token, login.clientId).catch(() => undefined)
        : undefined;
      if (!claims) return html(reply, 401, page('The identity provider did not return a valid ID token.'));
      await deps.identities.sessions.create(request, reply, OidcProvider.principal(claims));
      // A page, not a redirect: a SameSite=Strict cookie is not sent on a redirect chain that began cross-site.
      return html(reply, 200, signedInPage());
    },
  );
}

function signedInPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Signed in · Mandate approvals</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main><p>Signed in. <a href="/">Continue to the Decision Queue</a>.</p></main></body></html>`;
}
