import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sha256Hex } from '../core/hash';
import type { Authenticated, Authenticator, CredentialRef, Principal } from './auth';
import type { ApprovalsStore } from './store';

/**
 * Browser sessions, kept in the shared store: the cookie (HttpOnly, SameSite=Strict, Secure and
 * `__Host-` prefixed when secure) holds only a random id; the store keys the session by the id's
 * hash, so reading the store yields no usable cookie. A session remembers its credential by
 * reference and re-checks it on every request: it ends when the token is revoked, and never
 * outlives the credential's expiry (nor eight hours).
 */
export interface SessionData {
  principal: Principal;
  credential: CredentialRef;
  expiresAt: number;
  /** The CSRF secret (@fastify/csrf-protection reads and writes it under this name). */
  _csrf?: string;
}

export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in session, once loaded (see Sessions.load). */
    session?: SessionData;
  }
}

export class Sessions {
  readonly cookieName: string;
  private readonly loaded = new WeakMap<FastifyRequest, Promise<SessionData | undefined>>();

  /** `name`: cookies are per host, not per port, so each service on a host needs its own name. */
  constructor(
    private readonly store: ApprovalsStore,
    private readonly auth: Authenticator,
    private readonly secure: boolean,
    name = 'mandate_session',
  ) {
    this.cookieName = secure ? `__Host-${name}` : name;
  }

  /** Signs a person in with a fresh session id (never one the browser offered), ending any earlier one. */
  async create(request: FastifyRequest, reply: FastifyReply, who: Authenticated): Promise<SessionData> {
    await this.destroy(request, reply);
    const now = Date.now();
    const session: SessionData = {
      principal: who.principal,
      credential: who.credential,
      expiresAt: Math.min(now + SESSION_TTL_MS, who.expiresAt ?? Infinity),
    };
    request.session = session;
    reply.generateCsrf(); // sets session._csrf
    const id = randomBytes(32).toString('base64url');
    await this.store.put(key(id), JSON.stringify(session), session.expiresAt - now);
    this.loaded.set(request, Promise.resolve(session));
    void reply.setCookie(this.cookieName, id, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
      maxAge: Math.floor((session.expiresAt - now) / 1000),
    });
    return session;
  }

  /** The request's session if it is still valid (its credential re-checked); memoised per request. */
  load(request: FastifyRequest): Promise<SessionData | undefined> {
    let pending = this.loaded.get(request);
    if (!pending) {
      pending = this.read(request);
      this.loaded.set(request, pending);
    }
    return pending;
  }

  /** Drops the memoised session of a request, so that the next load reads and re-checks it again. */
  forget(request: FastifyRequest): void {
    this.loaded.delete(request);
  }

  async destroy(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = request.cookies[this.cookieName];
    if (id) await this.store.delete(key(id));
    this.loaded.set(request, Promise.resolve(undefined));
    request.session = undefined;
    void reply.clearCookie(this.cookieName, { path: '/', httpOnly: true, sameSite: 'strict', secure: this.secure });
  }

  private async read(request: FastifyRequest): Promise<SessionData | undefined> {
    const id = request.cookies[this.cookieName];
    if (!id) return undefined;
    const raw = await this.store.get(key(id));
    const session = raw ? (JSON.parse(raw) as SessionData) : undefined;
    if (!session) return undefined;
    const principal =
      session.expiresAt > Date.now() ? await this.auth.recheck(session.credential, session.principal) : undefined;
    if (!principal) {
      await this.store.delete(key(id));
      return undefined;
    }
    request.session = { ...session, principal };
    return request.session;
  }
}

const key = (id: string) => `session:${sha256Hex(id)}`;
