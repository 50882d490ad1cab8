import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from './app';
import type { Authenticator } from './auth';
import type { ApprovalsDesk } from './desk';
import { DeskError } from './desk';
import type { Identities } from './identity';
import { csrfGuard } from './identity';
import { loginPage, missionPage, outcomePage, queuePage } from './pages';
import type { QueueFilters } from './pages';
import type { RateLimits } from './rate-limit';
import { decisionLimit, signInLimit } from './rate-limit';
import type { SessionData } from './session';

/** The pages: sign-in, the Decision Queue, mission detail and the decide form's outcome. */
export interface PageDeps {
  desk: ApprovalsDesk;
  auth: Authenticator;
  identities: Identities;
  limits: Required<RateLimits>;
  /** Offer "Sign in with your identity provider" (the OIDC code flow is configured). */
  oidcLogin: boolean;
}

type Form = Record<string, string | string[] | undefined>;
/** One value of a form field (a repeated field is not a value). */
const field = (form: Form | undefined, name: string): string | undefined => {
  const value = form?.[name];
  return typeof value === 'string' ? value : undefined;
};

export function registerPages(app: FastifyInstance, deps: PageDeps): void {
  const { desk, auth, identities } = deps;
  const { sessions } = identities;
  const preHandler = csrfGuard(app, identities);

  /** The session, or a redirect to sign-in (undefined: the reply is already sent). */
  async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<SessionData | undefined> {
    const session = await sessions.load(request);
    if (!session) void reply.redirect('/login', 303);
    return session;
  }

  app.get('/login', async (request, reply) => {
    if (await sessions.load(request)) return reply.redirect('/', 303);
    return html(reply, 200, loginPage(undefined, deps.oidcLogin));
  });

  app.post<{ Body: Form }>(
    '/login',
    {
      config: {
        rateLimit: signInLimit(deps.limits),
        refusalPage: (_request, _reply, err) => loginPage(`Refused (${err.code}): ${err.message}.`, deps.oidcLogin),
      },
    },
    async (request, reply) => {
      const token = (field(request.body, 'token') ?? '').trim();
      const found = token ? await auth.authenticate(token) : undefined;
      if (!found) return html(reply, 401, loginPage('That token is not valid.', deps.oidcLogin));
      await sessions.create(request, reply, found);
      return reply.redirect('/', 303);
    },
  );

  app.post(
    '/logout',
    { preHandler, config: { refusalPage: () => loginPage('Form expired.') } },
    async (request, reply) => {
      await sessions.destroy(request, reply);
      return reply.redirect('/login', 303);
    },
  );

  app.get<{ Querystring: Record<string, string | undefined> }>('/', async (request, reply) => {
    const session = await requireSession(request, reply);
    if (!session) return reply;
    const q = request.query;
    const filters: QueueFilters = {
      type: q.type || undefined,
      tier: q.tier || undefined,
      q: q.q || undefined,
      all: q.all === '1',
    };
    const needle = filters.q?.toLowerCase();
    const entries = (await desk.queue(session.principal, filters.all)).filter(
      (e) =>
        (!filters.type || e.missionType === filters.type) &&
        (!filters.tier || e.tier === filters.tier) &&
        (!needle || `${e.missionId} ${e.operation} ${e.initiator}`.toLowerCase().includes(needle)),
    );
    const recent = await desk.recentFor(session.principal);
    return html(reply, 200, queuePage(session.principal, reply.generateCsrf(), entries, filters, recent));
  });

  app.get<{ Params: { id: string } }>('/missions/:id', async (request, reply) => {
    const session = await requireSession(request, reply);
    if (!session) return reply;
    const view = await desk.mission(session.principal, request.params.id);
    return html(reply, 200, missionPage(session.principal, reply.generateCsrf(), view));
  });

  app.post<{ Params: { id: string; actionId: string }; Body: Form }>(
    '/missions/:id/actions/:actionId/decision',
    {
      preHandler,
      config: {
        rateLimit: decisionLimit(deps.limits, identities),
        refusalPage: (request, reply, err) => {
          const session = request.session;
          const { id } = request.params as { id: string };
          const outcome = { ok: false as const, code: err.code, message: err.message };
          return outcomePage(session?.principal, session ? reply.generateCsrf() : undefined, id, outcome);
        },
      },
    },
    async (request, reply) => {
      const { id, actionId } = request.params;
      const session = await sessions.load(request);
      if (!session) throw new DeskError('unauthenticated', 'sign in first');
      const form = request.body ?? {};
      const decision = field(form, 'decision');
      const paramsHash = field(form, 'paramsHash');
      // Approving binds the vote to what the approver saw, and only their own tick confirms it.
      if (decision === 'approve' && (!paramsHash || field(form, 'confirm') !== paramsHash)) {
        throw new DeskError('binding_required', 'tick the confirmation of the operation and params to approve');
      }
      const result = await desk.vote(session.principal, id, actionId, {
        decision,
        reason: field(form, 'reason'),
        paramsHash,
      });
      const outcome = { ok: true as const, decision: result.decision, actionId, at: result.at };
      return html(reply, 200, outcomePage(session.principal, reply.generateCsrf(), id, outcome));
    },
  );
}
