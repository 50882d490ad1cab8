import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import * as openid from 'openid-client';
import type { OidcOptions } from '../config';
import type { Authenticated, Authenticator } from './auth';

/**
 * The OIDC provider as the service uses it: its metadata (from discovery, `MANDATE_OIDC_ISSUER`
 * alone, or from explicit endpoints when it publishes none), JWT verification with `jose` against
 * its remote JWKS (cached, refetched on an unknown key id), and the `openid-client` configuration
 * the browser sign-in runs on. Discovery happens on first use and is retried after a failure.
 */
export const ACCEPTED_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const CLOCK_TOLERANCE_SECONDS = 60;

export class OidcProvider {
  private discovered?: Promise<openid.Configuration>;
  private jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(readonly options: OidcOptions) {}

  /** The openid-client configuration (client = the sign-in client, or the audience for bearer-only use). */
  configuration(): Promise<openid.Configuration> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined;
      throw err;
    });
    return this.discovered;
  }

  /** Verifies a JWT from this issuer for `audience`: signature (RS256, ES256, EdDSA), iss, aud, exp, nbf. */
  async verify(jwt: string, audience = this.options.audience): Promise<JWTPayload & { sub: string; exp: number }> {
    if (!this.jwks) {
      const uri = this.options.jwksUrl ?? (await this.configuration()).serverMetadata().jwks_uri;
      if (!uri)
        throw new Error(`the OIDC provider ${this.options.issuer} publishes no jwks_uri: set MANDATE_OIDC_JWKS_URL`);
      this.jwks ??= createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000 });
    }
    const { payload } = await jwtVerify(jwt, this.jwks, {
      issuer: this.options.issuer,
      audience,
      algorithms: ACCEPTED_ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['sub', 'exp'],
    });
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('the token names no subject');
    return payload as JWTPayload & { sub: string; exp: number };
  }

  /** The principal of verified claims: `sub`, roles from `roles` (or `groups`); valid until `exp`. */
  static principal(claims: JWTPayload & { sub: string; exp: number }): Authenticated {
    const listed = Array.isArray(claims.roles) ? claims.roles : Array.isArray(claims.groups) ? claims.groups : [];
    return {
      principal: { subject: claims.sub, roles: listed.filter((r): r is string => typeof r === 'string'), via: 'oidc' },
      credential: { kind: 'oidc' },
      expiresAt: claims.exp * 1000,
    };
  }

  private async discover(): Promise<openid.Configuration> {
    const { issuer, login, jwksUrl, audience } = this.options;
    const clientId = login?.clientId ?? audience;
    const auth = login?.clientSecret ? openid.ClientSecretPost(login.clientSecret) : openid.None();
    const config =
      login?.authorizationUrl && login.tokenUrl
        ? new openid.Configuration(
            {
              issuer,
              authorization_endpoint: login.authorizationUrl,
              token_endpoint: login.tokenUrl,
              jwks_uri: jwksUrl,
            },
            clientId,
            login.clientSecret,
            auth,
          )
        : await openid.discovery(new URL(issuer), clientId, login?.clientSecret, auth, {
            execute: loopbackHttp(issuer) ? [openid.allowInsecureRequests] : [],
            timeout: 10,
          });
    if (loopbackHttp(issuer)) openid.allowInsecureRequests(config);
    return config;
  }
}

/** Plain HTTP is allowed for a provider on this machine only (a local test or development provider). */
function loopbackHttp(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
}

/** Bearer JWTs of the provider as credentials; a session made with one ends at its `exp`. */
export function oidcBearer(provider: OidcProvider): Authenticator {
  return {
    async authenticate(credential) {
      if (credential.split('.').length !== 3) return undefined;
      const claims = await provider.verify(credential).catch(() => undefined);
      return claims ? OidcProvider.principal(claims) : undefined;
    },
    async recheck(ref, principal) {
      // The session's own expiry is the token's: nothing else to look up.
      return ref.kind === 'oidc' ? principal : null;
    },
  };
}
