import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from './app';
import type { Authenticator } from './auth';
import type { ApprovalsDesk } from './desk';
import { DeskError } from './desk';
import { loginPage, missionPage, outcomePage, queuePage } from './pages';
import type { QueueFilters } from './pages';
import type { RateLimiter } from './rate-limit';
import type { Session, SessionStore } from './session';
import { csrfValid } from './session';

/** The pages: sign-in, the Decision Queue, mission detail and the decide form's outcome. */
export interface PageDeps {
  desk: ApprovalsDesk;
  auth: Authenticator;
  sessions: SessionStore;
  loginLimiter: RateLimiter;
  decideLimiter: RateLimiter;
  /** Offer "Sign in with your identity provider" (the OIDC code flow is configured). */
  oidcLogin: boolean;
}

type Form = Record<string, string | undefined>;

export function registerPages(app: FastifyInstance, deps: PageDeps): void {
  const { desk, auth, sessions } = deps;

  /** The session, or a redirect to sign-in (undefined: the reply is already sent). */
  function requireSession(request: FastifyRequest, reply: FastifyReply): Session | undefined {
    const session = sessions.get(request);
    if (!session) void reply.redirect('/login', 303);
    return session;
  }

  app.get('/login', async (request, reply) => {
    if (sessions.get(request)) return reply.redirect('/', 303);
    return html(reply, 200, loginPage(undefined, deps.oidcLogin));
  });

  app.post<{ Body: Form }>('/login', async (request, reply) => {
    const wait = deps.loginLimiter.take(request.ip);
    if (wait) {
      reply.header('retry-after', String(wait));
      return html(reply, 429, loginPage(`Too many sign-in attempts: try again in ${wait}s.`, deps.oidcLogin));
    }
    const token = (request.body?.token ?? '').trim();
    const principal = token ? await auth.authenticate(token) : undefined;
    if (!principal) return html(reply, 401, loginPage('That token is not valid.', deps.oidcLogin));
    sessions.create(principal, reply);
    return reply.redirect('/', 303);
  });

  app.post<{ Body: Form }>('/logout', async (request, reply) => {
    const session = sessions.get(request);
    if (session && !csrfValid(session, request.body?._csrf)) return html(reply, 403, loginPage('Form expired.'));
    sessions.destroy(request, reply);
    return reply.redirect('/login', 303);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/', async (request, reply) => {
    const session = requireSession(request, reply);
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
    return html(
      reply,
      200,
      queuePage(session.principal, session.csrf, entries, filters, desk.recentFor(session.principal)),
    );
  });

  app.get<{ Params: { id: string } }>('/missions/:id', async (request, reply) => {
    const session = requireSession(request, reply);
    if (!session) return reply;
    const view = await desk.mission(session.principal, request.params.id);
    return html(reply, 200, missionPage(session.principal, session.csrf, view));
  });

  app.post<{ Params: { id: string; actionId: string }; Body: Form }>(
    '/missions/:id/actions/:actionId/decision',
    async (request, reply) => {
      const { id, actionId } = request.params;
      const session = sessions.get(request);
      const refuse = (err: DeskError) =>
        html(
          reply,
          err.status,
          outcomePage(session?.principal, session?.csrf, id, { ok: false, code: err.code, message: err.message }),
        );
      if (!session) return refuse(new DeskError('unauthenticated', 'sign in first'));
      const form = request.body ?? {};
      if (!csrfValid(session, form._csrf))
        return refuse(new DeskError('csrf', 'the form has no valid CSRF token: reload the page and try again'));
      const wait = deps.decideLimiter.take(session.principal.subject);
      if (wait) return refuse(new DeskError('rate_limited', `too many decisions: try again in ${wait}s`));
      if (form.decision === 'approve' && form.confirm !== form.paramsHash) {
        return refuse(new DeskError('bad_request', 'tick the confirmation of the operation and params to approve'));
      }
      try {
        const result = await desk.vote(session.principal, id, actionId, {
          decision: form.decision,
          reason: form.reason,
          paramsHash: form.paramsHash,
        });
        return html(
          reply,
          200,
          outcomePage(session.principal, session.csrf, id, {
            ok: true,
            decision: result.decision,
            actionId,
            at: result.at,
          }),
        );
      } catch (err) {
        if (err instanceof DeskError) return refuse(err);
        throw err;
      }
    },
  );
}
