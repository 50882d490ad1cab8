import type { FastifyRequest } from 'fastify';
import type { RateLimitOptions } from '@fastify/rate-limit';
import type { ApprovalsStore } from './store';
import type { Identities } from './identity';
import { DeskError } from './refusals';

/**
 * Rate limits with @fastify/rate-limit, counted in the shared store so that every instance counts
 * the same attempts: sign-in per client address, decisions per approver.
 */
export interface RateLimits {
  /** Sign-in attempts per client address and window (default 10). */
  login?: number;
  /** Decisions per approver and window (default 30). */
  decide?: number;
  windowMs?: number;
}

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

/** The @fastify/rate-limit store over the service's store (fixed windows; keys name their limit). */
export function rateLimitStore(store: ApprovalsStore) {
  return class StoreBackedRateLimit {
    incr(key: string, callback: Callback, timeWindow: number): void {
      store.increment(`rate:${key}`, timeWindow).then(
        ({ count, resetAt }) => callback(null, { current: count, ttl: Math.max(0, resetAt - Date.now()) }),
        (err: Error) => callback(err),
      );
    }
    child(): StoreBackedRateLimit {
      return this;
    }
  };
}

/** A route's limit: `limit` attempts per window, keyed by `key(request)`, refused as `rate_limited`. */
export function limit(
  max: number,
  windowMs: number,
  key: (request: FastifyRequest) => Promise<string> | string,
  what: string,
): RateLimitOptions {
  return {
    max,
    timeWindow: windowMs,
    hook: 'preHandler',
    keyGenerator: key,
    errorResponseBuilder: (_request, context) =>
      new DeskError('rate_limited', `too many ${what}: try again in ${Math.ceil(context.ttl / 1000)}s`),
  };
}

/** Sign-in attempts (the token form and the OIDC callback share it), per client address. */
export function signInLimit(limits: Required<RateLimits>): RateLimitOptions {
  return limit(limits.login, limits.windowMs, (request) => `login:${request.ip}`, 'sign-in attempts');
}

/** Decisions (the form and the API share it), per approver whichever instance they reach. */
export function decisionLimit(limits: Required<RateLimits>, identities: Identities): RateLimitOptions {
  return limit(
    limits.decide,
    limits.windowMs,
    async (request) => `decide:${(await identities.of(request))?.principal.subject.trim().toLowerCase() ?? request.ip}`,
    'decisions',
  );
}
