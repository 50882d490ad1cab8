import { resolve } from 'node:path';
import { z } from 'zod';
import type { Env } from './schema';
import { ConfigError, flag, optionalText, optionalUrl, parseSection, yes } from './schema';

/** Settings of the approvals service and the approver CLI. */
const ApprovalsEnv = z.object({
  /** Local token file (JSON, hashed tokens → subject, roles); the embedded default sign-in. */
  MANDATE_APPROVALS_TOKENS_FILE: optionalText,
  /** OIDC: the issuer (`iss`); its discovery metadata gives the JWKS and the endpoints unless set below. */
  MANDATE_OIDC_ISSUER: optionalUrl,
  /** The audience (`aud`) of bearer tokens (default: the client id). */
  MANDATE_OIDC_AUDIENCE: optionalText,
  MANDATE_OIDC_JWKS_URL: optionalUrl,
  /** OIDC browser sign-in (code flow + PKCE): client id (the ID token audience), optional secret, endpoints. */
  MANDATE_OIDC_CLIENT_ID: optionalText,
  MANDATE_OIDC_CLIENT_SECRET: optionalText,
  MANDATE_OIDC_AUTHORIZATION_URL: optionalUrl,
  MANDATE_OIDC_TOKEN_URL: optionalUrl,
  /** The service's public base URL (the OIDC redirect goes to <it>/login/oidc/callback; its host is allowed). */
  MANDATE_APPROVALS_PUBLIC_URL: optionalUrl,
  /** Ed25519 private key (PKCS#8 PEM, inline or a file path) the service signs forwarded votes with. */
  MANDATE_APPROVALS_SIGNING_KEY: optionalText,
  /** Mark session cookies Secure (default on; browsers accept them on http://localhost and 127.0.0.1). */
  MANDATE_APPROVALS_SECURE_COOKIES: flag('true'),
  /** Sessions, rate limits, recent decisions: `sqlite:<path>` (default in the data dir) or `postgres://…`. */
  MANDATE_APPROVALS_STORE: optionalText.pipe(
    z
      .string()
      .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'sqlite:<path> or postgres://user:password@host:port/database')
      .optional(),
  ),
  /** Host names (or host:port) the service answers to; default: the public URL's host and localhost. */
  MANDATE_APPROVALS_ALLOWED_HOSTS: optionalText,
  /** Behind a load balancer: the proxies whose X-Forwarded-For to trust (addresses/CIDRs, or a hop count). */
  MANDATE_APPROVALS_TRUST_PROXY: optionalText,
  /** Where the approver CLI finds the service (overrides the URL stored by `mandate login`). */
  MANDATE_APPROVALS_URL: optionalUrl,
  /** The approver CLI's token (overrides the one stored by `mandate login`). */
  MANDATE_APPROVALS_TOKEN: optionalText,
});

/** Browser sign-in through the OIDC provider (authorization code + PKCE). */
export interface OidcLoginOptions {
  clientId: string;
  clientSecret?: string;
  /** Where the provider sends the browser back: `<public URL>/login/oidc/callback`. */
  redirectUrl: string;
  /** Endpoints for a provider that publishes no discovery metadata (both or neither). */
  authorizationUrl?: string;
  tokenUrl?: string;
}

/** OIDC: bearer JWTs verified against the issuer's keys, and optionally browser sign-in. */
export interface OidcOptions {
  issuer: string;
  /** The audience bearer tokens must name. */
  audience: string;
  /** The JWKS, when the provider publishes no discovery metadata. */
  jwksUrl?: string;
  login?: OidcLoginOptions;
}

export interface ApprovalsConfig {
  tokensFile?: string;
  oidc?: OidcOptions;
  signingKey?: string;
  secureCookies: boolean;
  /** MANDATE_APPROVALS_STORE as given (default: `sqlite:<data dir>/approvals.db`, filled in by loadConfig). */
  store?: string;
  /** Host names the service answers to (`host` or `host:port`). */
  allowedHosts: string[];
  /** Fastify's `trustProxy`: false, a hop count, or addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  publicUrl?: string;
  url?: string;
  token?: string;
}

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export function parseApprovalsConfig(env: Env): ApprovalsConfig {
  const c = parseSection(ApprovalsEnv, env);
  const fail = (message: string): never => {
    throw new ConfigError(`configuration error: ${message}`);
  };
  const needsIssuer = [c.MANDATE_OIDC_AUDIENCE, c.MANDATE_OIDC_JWKS_URL, c.MANDATE_OIDC_CLIENT_ID].some(Boolean);
  if (needsIssuer && !c.MANDATE_OIDC_ISSUER) fail('the MANDATE_OIDC_* settings need MANDATE_OIDC_ISSUER');
  const audience = c.MANDATE_OIDC_AUDIENCE ?? c.MANDATE_OIDC_CLIENT_ID;
  if (c.MANDATE_OIDC_ISSUER && !audience)
    fail('MANDATE_OIDC_ISSUER needs MANDATE_OIDC_AUDIENCE or MANDATE_OIDC_CLIENT_ID');
  if (Boolean(c.MANDATE_OIDC_AUTHORIZATION_URL) !== Boolean(c.MANDATE_OIDC_TOKEN_URL))
    fail('MANDATE_OIDC_AUTHORIZATION_URL and MANDATE_OIDC_TOKEN_URL go together (or both come from discovery)');
  if (c.MANDATE_OIDC_AUTHORIZATION_URL && !c.MANDATE_OIDC_CLIENT_ID)
    fail('MANDATE_OIDC_AUTHORIZATION_URL and MANDATE_OIDC_TOKEN_URL need MANDATE_OIDC_CLIENT_ID');
  if (c.MANDATE_OIDC_CLIENT_ID && !c.MANDATE_APPROVALS_PUBLIC_URL)
    fail('OIDC sign-in (MANDATE_OIDC_CLIENT_ID) needs MANDATE_APPROVALS_PUBLIC_URL for the redirect');
  const publicUrl = c.MANDATE_APPROVALS_PUBLIC_URL?.replace(/\/$/, '');
  const login: OidcLoginOptions | undefined = c.MANDATE_OIDC_CLIENT_ID
    ? {
        clientId: c.MANDATE_OIDC_CLIENT_ID,
        clientSecret: c.MANDATE_OIDC_CLIENT_SECRET,
        redirectUrl: `${publicUrl!}/login/oidc/callback`,
        authorizationUrl: c.MANDATE_OIDC_AUTHORIZATION_URL,
        tokenUrl: c.MANDATE_OIDC_TOKEN_URL,
      }
    : undefined;
  return {
    tokensFile: c.MANDATE_APPROVALS_TOKENS_FILE ? resolve(c.MANDATE_APPROVALS_TOKENS_FILE) : undefined,
    oidc: c.MANDATE_OIDC_ISSUER
      ? { issuer: c.MANDATE_OIDC_ISSUER, audience: audience!, jwksUrl: c.MANDATE_OIDC_JWKS_URL, login }
      : undefined,
    signingKey: c.MANDATE_APPROVALS_SIGNING_KEY,
    secureCookies: yes(c.MANDATE_APPROVALS_SECURE_COOKIES),
    store: c.MANDATE_APPROVALS_STORE,
    allowedHosts: c.MANDATE_APPROVALS_ALLOWED_HOSTS
      ? c.MANDATE_APPROVALS_ALLOWED_HOSTS.split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean)
      : defaultAllowedHosts(publicUrl),
    trustProxy: parseTrustProxy(c.MANDATE_APPROVALS_TRUST_PROXY),
    publicUrl,
    url: c.MANDATE_APPROVALS_URL,
    token: c.MANDATE_APPROVALS_TOKEN,
  };
}

/** The public URL's host (when set) and the loopback names. */
export function defaultAllowedHosts(publicUrl?: string): string[] {
  return [...(publicUrl ? [new URL(publicUrl).host.toLowerCase()] : []), ...LOCAL_HOSTS];
}

function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}
