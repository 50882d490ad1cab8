import type { FastifyInstance, FastifyRequest } from 'fastify';
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

  /** State changes by a signed-in person: cookie sessions must carry the CSRF header; bearer tokens need none. */
  async function actor(request: FastifyRequest) {
    const { principal, session } = await apiPrincipal(request, auth, sessions);
    if (session && !csrfValid(session, request.headers['x-csrf-token'])) {
      throw new DeskError('csrf', 'missing or wrong x-csrf-token for a cookie-authenticated request');
    }
    return principal;
  }
  const objectBody = (body: unknown): Record<string, unknown> => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new DeskError('bad_request', 'body must be a JSON object');
    }
    return body as Record<string, unknown>;
  };

  // Starts a mission with the signed-in person as its initiator (signed by the service).
  app.post<{ Body: unknown }>('/api/missions', async (request, reply) => {
    const principal = await actor(request);
    const body = objectBody(request.body ?? {});
    const started = await desk.start(principal, body);
    return reply.code(201).send(started);
  });

  // The kill switch for a person holding a control role of the mission.
  app.post<{ Params: { id: string; kind: string }; Body: unknown }>(
    '/api/missions/:id/controls/:kind',
    async (request) => {
      const principal = await actor(request);
      const kind = request.params.kind;
      if (kind !== 'halt' && kind !== 'pause' && kind !== 'resume') {
        throw new DeskError('bad_request', 'control must be halt, pause or resume');
      }
      const confirmed = await desk.control(principal, request.params.id, kind, objectBody(request.body ?? {}).reason);
      return { missionId: request.params.id, sent: kind, ...(confirmed ? { confirmed } : {}) };
    },
  );

  app.post<{ Body: unknown }>('/api/halt', async (request) => {
    const principal = await actor(request);
    const body = objectBody(request.body ?? {});
    if (body.missionType !== undefined && typeof body.missionType !== 'string') {
      throw new DeskError('bad_request', 'missionType must be a mission type');
    }
    return { halted: await desk.haltAll(principal, body.reason, body.missionType as string | undefined) };
  });

  app.post<{ Params: { id: string; actionId: string }; Body: unknown }>(
    '/api/missions/:id/actions/:actionId/decision',
    async (request, reply) => {
      const principal = await actor(request);
      const wait = deps.decideLimiter.take(principal.subject);
      if (wait) {
        reply.header('retry-after', String(wait));
        throw new DeskError('rate_limited', `too many decisions: try again in ${wait}s`);
      }
      const result = await desk.vote(
        principal,
        request.params.id,
        request.params.actionId,
        objectBody(request.body ?? {}),
      );
      return { result };
    },
  );
}
