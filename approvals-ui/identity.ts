import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Authenticator, Principal } from './auth';
import { bearer } from './auth';
import { DeskError } from './refusals';
import type { SessionData, Sessions } from './session';

/** Who a request comes from: a bearer credential (the CLI), or the session cookie (a browser). */
export interface Identity {
  principal: Principal;
  /** Present for cookie sessions, whose state changes must carry a CSRF token. */
  session?: SessionData;
}

export class Identities {
  private readonly known = new WeakMap<FastifyRequest, Promise<Identity | undefined>>();

  constructor(
    private readonly auth: Authenticator,
    readonly sessions: Sessions,
  ) {}

  /** The caller, or undefined; a presented bearer credential is never replaced by a cookie. Memoised per request. */
  of(request: FastifyRequest): Promise<Identity | undefined> {
    let found = this.known.get(request);
    if (!found) {
      found = this.resolve(request);
      this.known.set(request, found);
    }
    return found;
  }

  /** The caller as of now (not memoised): a long-running request checks its credential again with it. */
  fresh(request: FastifyRequest): Promise<Identity | undefined> {
    this.known.delete(request);
    this.sessions.forget(request);
    return this.of(request);
  }

  /** The caller, or a 401 `unauthenticated` refusal. */
  async require(request: FastifyRequest): Promise<Identity> {
    const identity = await this.of(request);
    if (identity) return identity;
    throw new DeskError(
      'unauthenticated',
      bearer(request.headers.authorization)
        ? 'the bearer token is not valid (expired, revoked or unknown)'
        : 'sign in, or send Authorization: Bearer <token>',
    );
  }

  private async resolve(request: FastifyRequest): Promise<Identity | undefined> {
    const token = bearer(request.headers.authorization);
    if (token) {
      const found = await this.auth.authenticate(token);
      return found ? { principal: found.principal } : undefined;
    }
    const session = await this.sessions.load(request);
    return session ? { principal: session.principal, session } : undefined;
  }
}

/**
 * A preHandler for state-changing routes: a cookie session must present its CSRF token (form field
 * `_csrf` or header `x-csrf-token`), checked by @fastify/csrf-protection; bearer credentials need
 * none (a browser never sends them by itself). A refusal goes to the error handler as `csrf`.
 */
export function csrfGuard(app: FastifyInstance, identities: Identities) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    identities.of(request).then((identity) => {
      if (identity?.session) app.csrfProtection(request, reply, done);
      else done();
    }, done);
  };
}
