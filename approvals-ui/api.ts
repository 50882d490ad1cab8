import type { FastifyInstance } from 'fastify';
import { apiPrincipal } from './app';
import type { Authenticator } from './auth';
import type { ApprovalsDesk } from './desk';
import { DeskError } from './desk';
import type { RateLimiter } from './rate-limit';
import type { SessionStore } from './session';
import { csrfValid } from './session';

/**
 * The JSON API behind the pages, used by the CLI: bearer tokens (local or OIDC), or the session
 * cookie plus an `x-csrf-token` header for state changes.
 */
export interface ApiDeps {
  desk: ApprovalsDesk;
  auth: Authenticator;
  sessions: SessionStore;
  decideLimiter: RateLimiter;
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { desk, auth, sessions } = deps;

  app.get('/api/me', async (request) => {
    const { principal } = await apiPrincipal(request, auth, sessions);
    return { subject: principal.subject, roles: principal.roles, via: principal.via, signingKeyId: desk.signerKeyId };
  });

  app.get<{ Querystring: { all?: string } }>('/api/queue', async (request) => {
    const { principal } = await apiPrincipal(request, auth, sessions);
    return { items: await desk.queue(principal, request.query.all === '1' || request.query.all === 'true') };
  });

  app.get<{ Params: { id: string } }>('/api/missions/:id', async (request) => {
    const { principal } = await apiPrincipal(request, auth, sessions);
    const view = await desk.mission(principal, request.params.id);
    return { ...view.detail, actions: view.actions, settled: view.settled };
  });

  app.get('/api/decisions/mine', async (request) => {
    const { principal } = await apiPrincipal(request, auth, sessions);
    return { items: desk.recentFor(principal) };
  });

  app.post<{ Params: { id: string; actionId: string }; Body: unknown }>(
    '/api/missions/:id/actions/:actionId/decision',
    async (request, reply) => {
      const { principal, session } = await apiPrincipal(request, auth, sessions);
      if (session && !csrfValid(session, request.headers['x-csrf-token'])) {
        throw new DeskError('csrf', 'missing or wrong x-csrf-token for a cookie-authenticated request');
      }
      const wait = deps.decideLimiter.take(principal.subject);
      if (wait) {
        reply.header('retry-after', String(wait));
        throw new DeskError('rate_limited', `too many decisions: try again in ${wait}s`);
      }
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body))
        throw new DeskError('bad_request', 'body must be a JSON object');
      const result = await desk.vote(principal, request.params.id, request.params.actionId, body);
      return { result };
    },
  );
}
