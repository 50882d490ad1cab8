import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from './auth';

/**
 * Server-side sessions: the cookie holds only a random id (HttpOnly, SameSite=Strict, Secure, and
 * `__Host-` prefixed when secure); the principal and the session's CSRF token stay in memory.
 */
export interface Session {
  id: string;
  principal: Principal;
  csrf: string;
  expiresAt: number;
}

const TTL_MS = 8 * 60 * 60 * 1000;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  readonly cookieName: string;

  /** `name`: cookies are per host, not per port, so each service on a host needs its own name. */
  constructor(
    private readonly secure: boolean,
    name = 'mandate_session',
  ) {
    this.cookieName = secure ? `__Host-${name}` : name;
  }

  create(principal: Principal, reply: FastifyReply): Session {
    this.sweep();
    const session = {
      id: randomBytes(32).toString('base64url'),
      principal,
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: Date.now() + TTL_MS,
    };
    this.sessions.set(session.id, session);
    reply.header('set-cookie', this.cookie(session.id, TTL_MS / 1000));
    return session;
  }

  get(request: FastifyRequest): Session | undefined {
    const id = readCookie(request.headers.cookie, this.cookieName);
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (session.expiresAt < Date.now()) {
      this.sessions.delete(session.id);
      return undefined;
    }
    return session;
  }

  destroy(request: FastifyRequest, reply: FastifyReply): void {
    const session = this.get(request);
    if (session) this.sessions.delete(session.id);
    reply.header('set-cookie', this.cookie('', 0));
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    return `${this.cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${this.secure ? '; Secure' : ''}`;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.expiresAt < now) this.sessions.delete(id);
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Constant-time check of a submitted CSRF token against the session's. */
export function csrfValid(session: Session | undefined, submitted: unknown): boolean {
  if (!session || typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
