import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../catalog/catalog';
import { createAttestationSigner } from '../core/signer';
import { registerApi } from './api';
import { createApp } from './app';
import type { Authenticator } from './auth';
import { anyOf } from './auth';
import { ApprovalsDesk } from './desk';
import { localTokens } from './local-tokens';
import { oidc } from './oidc';
import { registerOidcLogin } from './oidc-login';
import type { OidcLoginOptions } from '../config';
import type { OidcOptions } from './oidc';
import { RateLimiter } from './rate-limit';
import { registerPages } from './routes';
import { SessionStore } from './session';

/**
 * The approvals service: the Decision Queue, mission detail and decisions for authenticated
 * approvers, as pages and as a JSON API. Decisions are forwarded signed (Ed25519) with the
 * approver's roles and the params hash and policy version they confirmed.
 */
export interface ApprovalsServiceOptions {
  client: Client;
  /** The deployment's mission task queue: missions start there, and only its missions appear in the queue. */
  taskQueue: string;
  /** The mission catalog (input validation for starts, control roles). */
  catalog: Catalog;
  logger?: boolean | object;
  /** Local token file (see local-tokens.ts). */
  tokensFile?: string;
  oidc?: OidcOptions;
  /** Browser sign-in through the OIDC provider (authorization code + PKCE). */
  oidcLogin?: OidcLoginOptions;
  /** Extra authenticators (tests). */
  authenticators?: Authenticator[];
  /** Ed25519 private key, PKCS#8 PEM: the service signs every vote, start and control it forwards. */
  signingKeyPem: string;
  /** Secure cookies (default true). */
  secureCookies?: boolean;
  rateLimits?: { login?: number; decide?: number; windowMs?: number };
}

export function createApprovalsService(options: ApprovalsServiceOptions): FastifyInstance {
  const app = createApp(options.logger ?? false);
  const authenticators = [...(options.authenticators ?? [])];
  if (options.tokensFile) authenticators.push(localTokens(options.tokensFile));
  if (options.oidc) authenticators.push(oidc(options.oidc));
  const auth = anyOf(authenticators);
  const desk = new ApprovalsDesk({
    client: options.client,
    taskQueue: options.taskQueue,
    catalog: options.catalog,
    signer: createAttestationSigner(options.signingKeyPem),
  });
  const secure = options.secureCookies ?? true;
  const sessions = new SessionStore(secure);
  const windowMs = options.rateLimits?.windowMs ?? 60_000;
  const loginLimiter = new RateLimiter(options.rateLimits?.login ?? 10, windowMs);
  const decideLimiter = new RateLimiter(options.rateLimits?.decide ?? 30, windowMs);

  app.get('/healthz', async () => ({ ok: true }));
  registerApi(app, { desk, auth, sessions, decideLimiter });
  registerPages(app, { desk, auth, sessions, loginLimiter, decideLimiter, oidcLogin: Boolean(options.oidcLogin) });
  if (options.oidcLogin) registerOidcLogin(app, options.oidcLogin, sessions, loginLimiter, secure);
  return app;
}
