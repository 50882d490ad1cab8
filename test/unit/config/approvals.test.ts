import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../../config';

describe('the approvals settings', () => {
  it('has safe defaults: Secure cookies, supervisor tier → supervisor role, no OIDC', () => {
    expect(loadConfig({}).approvals).toEqual({
      oidcLogin: undefined,
      tokensFile: undefined,
      oidc: undefined,
      signingKey: undefined,
      secureCookies: true,
      url: undefined,
      token: undefined,
    });
  });

  it('reads every setting', () => {
    expect(
      loadConfig({
        MANDATE_APPROVALS_TOKENS_FILE: 'tokens.json',
        MANDATE_OIDC_ISSUER: 'https://idp.example.com',
        MANDATE_OIDC_AUDIENCE: 'mandate',
        MANDATE_OIDC_JWKS_URL: 'https://idp.example.com/jwks.json',
        MANDATE_APPROVALS_SIGNING_KEY: '/etc/mandate/key.pem',
        MANDATE_APPROVALS_SECURE_COOKIES: 'false',
        MANDATE_APPROVALS_URL: 'http://localhost:8780',
        MANDATE_APPROVALS_TOKEN: 'mdt_x',
        MANDATE_OIDC_CLIENT_ID: 'mandate-web',
        MANDATE_OIDC_AUTHORIZATION_URL: 'https://idp.example.com/authorize',
        MANDATE_OIDC_TOKEN_URL: 'https://idp.example.com/token',
        MANDATE_APPROVALS_PUBLIC_URL: 'https://approvals.example.com/',
      }).approvals,
    ).toEqual({
      oidcLogin: {
        issuer: 'https://idp.example.com',
        jwksUrl: 'https://idp.example.com/jwks.json',
        clientId: 'mandate-web',
        clientSecret: undefined,
        authorizationUrl: 'https://idp.example.com/authorize',
        tokenUrl: 'https://idp.example.com/token',
        redirectUrl: 'https://approvals.example.com/login/oidc/callback',
      },
      tokensFile: resolve('tokens.json'),
      oidc: { issuer: 'https://idp.example.com', audience: 'mandate', jwksUrl: 'https://idp.example.com/jwks.json' },
      signingKey: '/etc/mandate/key.pem',
      secureCookies: false,
      url: 'http://localhost:8780',
      token: 'mdt_x',
    });
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ MANDATE_OIDC_ISSUER: 'https://idp.example.com' }, /must be set together/],
    [{ MANDATE_OIDC_CLIENT_ID: 'x' }, /OIDC sign-in needs/],
    [{ MANDATE_APPROVALS_URL: 'not a url' }, /MANDATE_APPROVALS_URL/],
    [{ MANDATE_APPROVALS_SECURE_COOKIES: 'maybe' }, /MANDATE_APPROVALS_SECURE_COOKIES/],
  ])('stops with a one-line explanation: %j', (env, message) => {
    expect(() => loadConfig(env).approvals).toThrow(ConfigError);
    expect(() => loadConfig(env).approvals).toThrow(message);
  });
});
