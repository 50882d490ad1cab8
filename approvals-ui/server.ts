import rateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../catalog/catalog';
import type { OidcOptions } from '../config';
import { defaultAllowedHosts } from '../config';
import { createAttestationSigner } from '../core/signer';
import { registerApi } from './api';
import type { AuditPageOptions } from './audit-page';
import { registerAuditPages } from './audit-page';
import { createApp } from './app';
import type { Authenticator } from './auth';
import { anyOf } from './auth';
import { ApprovalsDesk } from './desk';
import { Identities } from './identity';
import { registerLiveRail } from './live';
import { localTokens } from './local-tokens';
import { OidcProvider, oidcBearer } from './oidc';
import { registerOidcLogin } from './oidc-login';
import type { RateLimits } from './rate-limit';
import { rateLimitStore } from './rate-limit';
import { registerPages } from './routes';
import { Sessions } from './session';
import type { ApprovalsStore } from './store';

/**
 * The approvals service: the Decision Queue, mission detail and decisions for authenticated
 * approvers, as pages and as a JSON API. Decisions are forwarded signed (Ed25519) with the
 * approver's roles and the params hash and policy version they confirmed. Sessions, rate limits
 * and recent decisions live in `store`, so any number of instances can share them.
 */
export interface ApprovalsServiceOptions {
  client: Client;
  /** The deployment's mission task queue: missions start there, and only its missions appear in the queue. */
  taskQueue: string;
  /** The mission catalog (input validation for starts, control roles, who may read a mission). */
  catalog: Catalog;
  /** Sessions, sign-in flows, rate-limit counters and recent decisions (see store.ts); the caller closes it. */
  store: ApprovalsStore;
  logger?: boolean | object;
  /** Local token file (see local-tokens.ts). */
  tokensFile?: string;
  /** OIDC bearer tokens, and browser sign-in through the provider when `login` is set. */
  oidc?: OidcOptions;
  /** Extra authenticators (tests). */
  authenticators?: Authenticator[];
  /** Ed25519 private key, PKCS#8 PEM: the service signs every vote, start and control it forwards. */
  signingKeyPem: string;
  /** Secure cookies (default true). */
  secureCookies?: boolean;
  /** Host names the service answers to (default: the OIDC redirect's host and localhost). */
  allowedHosts?: string[];
  trustProxy?: boolean | number | string[];
  rateLimits?: RateLimits;
  /** The audit store and trusted keys behind the auditor's Audit page (unset: no Audit page). */
  audit?: AuditPageOptions;
}

export function createApprovalsService(options: ApprovalsServiceOptions): FastifyInstance {
  const redirect = options.oidc?.login?.redirectUrl;
  const app = createApp({
    logger: options.logger ?? false,
    allowedHosts: options.allowedHosts ?? defaultAllowedHosts(redirect ? new URL(redirect).origin : undefined),
    trustProxy: options.trustProxy,
  });
  const provider = options.oidc ? new OidcProvider(options.oidc) : undefined;
  const auth = anyOf([
    ...(options.authenticators ?? []),
    ...(options.tokensFile ? [localTokens(options.tokensFile)] : []),
    ...(provider ? [oidcBearer(provider)] : []),
  ]);
  const { store } = options;
  const desk = new ApprovalsDesk({
    client: options.client,
    taskQueue: options.taskQueue,
    catalog: options.catalog,
    store,
    signer: createAttestationSigner(options.signingKeyPem),
  });
  const secure = options.secureCookies ?? true;
  const identities = new Identities(auth, new Sessions(store, auth, secure));
  const limits = { login: 10, decide: 30, windowMs: 60_000, ...options.rateLimits };

  void app.register(rateLimit, { global: false, store: rateLimitStore(store) });
  // Routes go in a plugin registered after the rate limiter, so that its route hook sees every one.
  void app.register(async (routes) => {
    routes.get('/healthz', async () => ({ ok: true }));
    registerApi(routes, { desk, identities, limits });
    registerLiveRail(routes, { desk, identities });
    registerPages(routes, { desk, auth, identities, limits, oidcLogin: Boolean(options.oidc?.login) });
    if (provider && options.oidc?.login) {
      registerOidcLogin(routes, { provider, login: options.oidc.login, identities, store, limits, secure });
    }
    registerAuditPages(routes, { identities, audit: options.audit });
  });
  return app;
}
