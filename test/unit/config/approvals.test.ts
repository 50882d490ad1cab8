import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../../config';

describe('the approvals settings', () => {
  it('has safe defaults: Secure cookies, no OIDC, a SQLite store in the data dir, localhost hosts only', () => {
    expect(loadConfig({}).approvals).toEqual({
      tokensFile: undefined,
      oidc: undefined,
      signingKey: undefined,
      secureCookies: true,
      store: `sqlite:${join(resolve('.mandate'), 'approvals.db')}`,
      allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
      trustProxy: false,
      publicUrl: undefined,
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
        MANDATE_OIDC_CLIENT_SECRET: 's3cret',
        MANDATE_OIDC_AUTHORIZATION_URL: 'https://idp.example.com/authorize',
        MANDATE_OIDC_TOKEN_URL: 'https://idp.example.com/token',
        MANDATE_APPROVALS_PUBLIC_URL: 'https://approvals.example.com/',
        MANDATE_APPROVALS_STORE: 'postgres://mandate@db.example.com:5432/mandate',
        MANDATE_APPROVALS_TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
      }).approvals,
    ).toEqual({
      tokensFile: resolve('tokens.json'),
      oidc: {
        issuer: 'https://idp.example.com',
        audience: 'mandate',
        jwksUrl: 'https://idp.example.com/jwks.json',
        login: {
          clientId: 'mandate-web',
          clientSecret: 's3cret',
          authorizationUrl: 'https://idp.example.com/authorize',
          tokenUrl: 'https://idp.example.com/token',
          redirectUrl: 'https://approvals.example.com/login/oidc/callback',
        },
      },
      signingKey: '/etc/mandate/key.pem',
      secureCookies: false,
      store: 'postgres://mandate@db.example.com:5432/mandate',
      allowedHosts: ['approvals.example.com', 'localhost', '127.0.0.1', '[::1]'],
      trustProxy: ['10.0.0.0/8', '192.168.1.1'],
      publicUrl: 'https://approvals.example.com',
      url: 'http://localhost:8780',
      token: 'mdt_x',
    });
  });

  it('needs only the issuer and the client id where the provider publishes discovery metadata', () => {
    const { oidc } = loadConfig({
      MANDATE_OIDC_ISSUER: 'https://idp.example.com',
      MANDATE_OIDC_CLIENT_ID: 'mandate-web',
      MANDATE_APPROVALS_PUBLIC_URL: 'https://approvals.example.com',
      MANDATE_APPROVALS_ALLOWED_HOSTS: 'Approvals.example.com, approvals.internal:8780',
      MANDATE_APPROVALS_TRUST_PROXY: '1',
    }).approvals;
    expect(oidc).toEqual({
      issuer: 'https://idp.example.com',
      audience: 'mandate-web',
      jwksUrl: undefined,
      login: expect.objectContaining({ clientId: 'mandate-web', authorizationUrl: undefined, tokenUrl: undefined }),
    });
    expect(loadConfig({ MANDATE_APPROVALS_ALLOWED_HOSTS: 'a.example.com,b:1' }).approvals.allowedHosts).toEqual([
      'a.example.com',
      'b:1',
    ]);
    expect(loadConfig({ MANDATE_APPROVALS_TRUST_PROXY: '2' }).approvals.trustProxy).toBe(2);
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ MANDATE_OIDC_ISSUER: 'https://idp.example.com' }, /needs MANDATE_OIDC_AUDIENCE or MANDATE_OIDC_CLIENT_ID/],
    [{ MANDATE_OIDC_AUDIENCE: 'x' }, /need MANDATE_OIDC_ISSUER/],
    [
      { MANDATE_OIDC_ISSUER: 'https://i.example.com', MANDATE_OIDC_CLIENT_ID: 'x' },
      /needs MANDATE_APPROVALS_PUBLIC_URL/,
    ],
    [
      { MANDATE_OIDC_ISSUER: 'https://i.example.com', MANDATE_OIDC_AUDIENCE: 'x', MANDATE_OIDC_TOKEN_URL: 'https://t' },
      /go together/,
    ],
    [{ MANDATE_APPROVALS_URL: 'not a url' }, /MANDATE_APPROVALS_URL/],
    [{ MANDATE_APPROVALS_SECURE_COOKIES: 'maybe' }, /MANDATE_APPROVALS_SECURE_COOKIES/],
    [{ MANDATE_APPROVALS_STORE: 'redis://x' }, /MANDATE_APPROVALS_STORE: sqlite:<path> or postgres/],
  ])('stops with a one-line explanation: %j', (env, message) => {
    expect(() => loadConfig(env).approvals).toThrow(ConfigError);
    expect(() => loadConfig(env).approvals).toThrow(message);
  });
});
