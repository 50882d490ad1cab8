import { resolve } from 'node:path';
import { z } from 'zod';
import type { Env } from './schema';
import { ConfigError, flag, optionalText, optionalUrl, parseSection, yes } from './schema';

/** Settings of the approvals service and the approver CLI. */
const ApprovalsEnv = z.object({
  /** Local token file (JSON, hashed tokens → subject, roles); the embedded default sign-in. */
  MANDATE_APPROVALS_TOKENS_FILE: optionalText,
  /** OIDC: issuer (`iss`), audience (`aud`) and the JWKS URL the service verifies ID/access tokens with. */
  MANDATE_OIDC_ISSUER: optionalText,
  MANDATE_OIDC_AUDIENCE: optionalText,
  MANDATE_OIDC_JWKS_URL: optionalUrl,
  /** OIDC browser sign-in (code flow + PKCE): client id (the ID token audience), optional secret, endpoints. */
  MANDATE_OIDC_CLIENT_ID: optionalText,
  MANDATE_OIDC_CLIENT_SECRET: optionalText,
  MANDATE_OIDC_AUTHORIZATION_URL: optionalUrl,
  MANDATE_OIDC_TOKEN_URL: optionalUrl,
  /** The service's public base URL (the OIDC redirect goes to <it>/login/oidc/callback). */
  MANDATE_APPROVALS_PUBLIC_URL: optionalUrl,
  /** Ed25519 private key (PKCS#8 PEM, inline or a file path) the service signs forwarded votes with. */
  MANDATE_APPROVALS_SIGNING_KEY: optionalText,
  /** Mark session cookies Secure (default on; browsers accept them on http://localhost and 127.0.0.1). */
  MANDATE_APPROVALS_SECURE_COOKIES: flag('true'),
  /** Where the approver CLI finds the service (overrides the URL stored by `mandate login`). */
  MANDATE_APPROVALS_URL: optionalUrl,
  /** The approver CLI's token (overrides the one stored by `mandate login`). */
  MANDATE_APPROVALS_TOKEN: optionalText,
});

/** Browser sign-in through the OIDC provider (authorization code + PKCE). */
export interface OidcLoginOptions {
  issuer: string;
  jwksUrl: string;
  clientId: string;
  clientSecret?: string;
  authorizationUrl: string;
  tokenUrl: string;
  /** Where the provider sends the browser back: `<public URL>/login/oidc/callback`. */
  redirectUrl: string;
}

export interface ApprovalsConfig {
  tokensFile?: string;
  oidc?: { issuer: string; audience: string; jwksUrl: string };
  oidcLogin?: OidcLoginOptions;
  signingKey?: string;
  secureCookies: boolean;
  url?: string;
  token?: string;
}

export function parseApprovalsConfig(env: Env): ApprovalsConfig {
  const c = parseSection(ApprovalsEnv, env);
  const oidcSet = [c.MANDATE_OIDC_ISSUER, c.MANDATE_OIDC_AUDIENCE, c.MANDATE_OIDC_JWKS_URL].filter(Boolean).length;
  if (oidcSet !== 0 && oidcSet !== 3) {
    throw new ConfigError(
      'configuration error: MANDATE_OIDC_ISSUER, MANDATE_OIDC_AUDIENCE and MANDATE_OIDC_JWKS_URL must be set together',
    );
  }
  const flow = [
    c.MANDATE_OIDC_CLIENT_ID,
    c.MANDATE_OIDC_AUTHORIZATION_URL,
    c.MANDATE_OIDC_TOKEN_URL,
    c.MANDATE_APPROVALS_PUBLIC_URL,
  ];
  const flowSet = flow.filter(Boolean).length;
  if ((flowSet !== 0 && flowSet !== flow.length) || (flowSet !== 0 && oidcSet !== 3)) {
    throw new ConfigError(
      'configuration error: OIDC sign-in needs MANDATE_OIDC_CLIENT_ID, MANDATE_OIDC_AUTHORIZATION_URL, MANDATE_OIDC_TOKEN_URL and MANDATE_APPROVALS_PUBLIC_URL together, with the OIDC issuer, audience and JWKS URL',
    );
  }
  return {
    oidcLogin: flowSet
      ? {
          issuer: c.MANDATE_OIDC_ISSUER!,
          jwksUrl: c.MANDATE_OIDC_JWKS_URL!,
          clientId: c.MANDATE_OIDC_CLIENT_ID!,
          clientSecret: c.MANDATE_OIDC_CLIENT_SECRET,
          authorizationUrl: c.MANDATE_OIDC_AUTHORIZATION_URL!,
          tokenUrl: c.MANDATE_OIDC_TOKEN_URL!,
          redirectUrl: `${c.MANDATE_APPROVALS_PUBLIC_URL!.replace(/\/$/, '')}/login/oidc/callback`,
        }
      : undefined,
    tokensFile: c.MANDATE_APPROVALS_TOKENS_FILE ? resolve(c.MANDATE_APPROVALS_TOKENS_FILE) : undefined,
    oidc:
      oidcSet === 3
        ? { issuer: c.MANDATE_OIDC_ISSUER!, audience: c.MANDATE_OIDC_AUDIENCE!, jwksUrl: c.MANDATE_OIDC_JWKS_URL! }
        : undefined,
    signingKey: c.MANDATE_APPROVALS_SIGNING_KEY,
    secureCookies: yes(c.MANDATE_APPROVALS_SECURE_COOKIES),
    url: c.MANDATE_APPROVALS_URL,
    token: c.MANDATE_APPROVALS_TOKEN,
  };
}
