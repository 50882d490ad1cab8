import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApprovalsDesk } from './desk';
import { DeskError } from './desk';
import type { Identities } from './identity';
import { csrfGuard } from './identity';
import type { RateLimits } from './rate-limit';
import { decisionLimit } from './rate-limit';

/**
 * The JSON API behind the pages, used by the CLI: bearer tokens (local or OIDC), or the session
 * cookie plus an `x-csrf-token` header for state changes.
 */
export interface ApiDeps {
  desk: ApprovalsDesk;
  identities: Identities;
  limits: Required<RateLimits>;
}

type Params = { id: string; actionId: string; kind: string };

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { desk, identities } = deps;

  app.get('/api/me', async (request) => {
    const { principal } = await identities.require(request);
    return { subject: principal.subject, roles: principal.roles, via: principal.via, signingKeyId: desk.signerKeyId };
  });

  app.get<{ Querystring: { all?: string } }>('/api/queue', async (request) => {
    const { principal } = await identities.require(request);
    return { items: await desk.queue(principal, request.query.all === '1' || request.query.all === 'true') };
  });

  app.get<{ Params: Pick<Params, 'id'> }>('/api/missions/:id', async (request) => {
    const { principal } = await identities.require(request);
    const view = await desk.mission(principal, request.params.id);
    return { ...view.detail, actions: view.actions, settled: view.settled };
  });

  app.get('/api/decisions/mine', async (request) => {
    const { principal } = await identities.require(request);
    return { items: await desk.recentFor(principal) };
  });

  /** State changes: the caller, whose cookie session (if that is how they came) passed the CSRF guard. */
  const actor = async (request: FastifyRequest) => (await identities.require(request)).principal;
  const preHandler = csrfGuard(app, identities);
  const objectBody = (body: unknown): Record<string, unknown> => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new DeskError('bad_request', 'body must be a JSON object');
    }
    return body as Record<string, unknown>;
  };

  // Starts a mission with the signed-in person as its initiator (signed by the service).
  app.post<{ Body: unknown }>('/api/missions', { preHandler }, async (request, reply) => {
    const principal = await actor(request);
    const started = await desk.start(principal, objectBody(request.body ?? {}));
    return reply.code(201).send(started);
  });

  // The kill switch for a person holding a control role of the mission.
  app.post<{ Params: Pick<Params, 'id' | 'kind'>; Body: unknown }>(
    '/api/missions/:id/controls/:kind',
    { preHandler },
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

  app.post<{ Body: unknown }>('/api/halt', { preHandler }, async (request) => {
    const principal = await actor(request);
    const body = objectBody(request.body ?? {});
    if (body.missionType !== undefined && typeof body.missionType !== 'string') {
      throw new DeskError('bad_request', 'missionType must be a mission type');
    }
    return { halted: await desk.haltAll(principal, body.reason, body.missionType as string | undefined) };
  });

  app.post<{ Params: Pick<Params, 'id' | 'actionId'>; Body: unknown }>(
    '/api/missions/:id/actions/:actionId/decision',
    {
      preHandler,
      config: {
        rateLimit: decisionLimit(deps.limits, identities),
      },
    },
    async (request) => {
      const principal = await actor(request);
      const { id, actionId } = request.params;
      return { result: await desk.vote(principal, id, actionId, objectBody(request.body ?? {})) };
    },
  );
}
