import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator, Principal } from './auth';
import { bearer } from './auth';
import { DeskError } from './desk';
import { errorPage } from './pages';
import type { Session, SessionStore } from './session';

/**
 * The Fastify instance with what every route relies on: security headers, the form parser, the
 * static script and stylesheet, and JSON errors `{error:{code,message}}` under /api.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const STATIC: Record<string, { type: string; body: string }> = {
  'app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(__dirname, 'static', 'app.js'), 'utf8') },
  'app.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'static', 'app.css'), 'utf8') },
};

export function createApp(logger: boolean | object): FastifyInstance {
  const app = Fastify({ logger, bodyLimit: 64 * 1024 });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    // same-origin, not no-referrer: with no-referrer, browsers send `Origin: null` on same-origin form POSTs.
    reply.header('referrer-policy', 'same-origin');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  // Defence in depth next to the CSRF tokens (and the only guard for the sign-in form, against login
  // CSRF): a browser's cross-site POST carries a foreign Origin, which is refused before any route runs.
  app.addHook('onRequest', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const origin = request.headers.origin;
    if (origin && origin !== 'null' && safeHost(origin) !== request.headers.host) {
      throw new DeskError('csrf', 'cross-site request refused');
    }
    if (origin === 'null') throw new DeskError('csrf', 'cross-site request refused');
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.get<{ Params: { file: string } }>('/static/:file', async (request, reply) => {
    const file = Object.hasOwn(STATIC, request.params.file) ? STATIC[request.params.file] : undefined;
    if (!file) return reply.code(404).type('text/plain').send('not found');
    return reply.header('cache-control', 'public, max-age=300').type(file.type).send(file.body);
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const desk = err instanceof DeskError ? err : undefined;
    const status = desk?.status ?? (err.statusCode && err.statusCode < 500 ? err.statusCode : 500);
    if (status >= 500) request.log.error(err);
    const code = desk?.code ?? (status === 404 ? 'not_found' : status < 500 ? 'bad_request' : 'internal');
    const message = status >= 500 ? 'internal error' : err.message;
    if (request.url.startsWith('/api/')) return reply.code(status).send({ error: { code, message } });
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(errorPage(undefined, status, message));
  });
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api/'))
      return reply
        .code(404)
        .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } });
    return reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send(errorPage(undefined, 404, 'no such page'));
  });
  return app;
}

function safeHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** The caller's principal for the JSON API: a bearer credential, or the session cookie. */
export async function apiPrincipal(
  request: FastifyRequest,
  auth: Authenticator,
  sessions: SessionStore,
): Promise<{ principal: Principal; session?: Session }> {
  const token = bearer(request.headers.authorization);
  if (token) {
    const principal = await auth.authenticate(token);
    if (!principal) throw new DeskError('unauthenticated', 'the bearer token is not valid (expired or unknown)');
    return { principal };
  }
  const session = sessions.get(request);
  if (!session) throw new DeskError('unauthenticated', 'sign in, or send Authorization: Bearer <token>');
  return { principal: session.principal, session };
}

export function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}
