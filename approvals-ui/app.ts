import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorPage } from './pages';
import { DeskError } from './refusals';

/**
 * The Fastify instance with what every route relies on: the Host allowlist, security headers
 * (@fastify/helmet), cookies, the form parser, CSRF tokens (@fastify/csrf-protection, the secret in
 * the server-side session), the Origin check, the static script and stylesheet, and one error shape:
 * `{error:{code,message}}` under /api (Fastify's own errors included), an HTML page elsewhere.
 */
export interface AppOptions {
  logger: boolean | object;
  /** Host names (`host` or `host:port`) the service answers to. */
  allowedHosts: string[];
  /** Fastify's trustProxy, for X-Forwarded-For behind a load balancer. */
  trustProxy?: boolean | number | string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Renders a refusal on this page route as a page of its own (the sign-in form, the decision outcome). */
    refusalPage?: (request: FastifyRequest, reply: FastifyReply, err: DeskError) => Promise<string> | string;
  }
}

const STATIC: Record<string, { type: string; body: string }> = {
  'app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(__dirname, 'static', 'app.js'), 'utf8') },
  'app.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'static', 'app.css'), 'utf8') },
};

export function createApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger,
    bodyLimit: 64 * 1024,
    // A hop count trusts that many proxies nearest to the service.
    trustProxy:
      typeof options.trustProxy === 'number'
        ? (_address: string, hop: number) => hop < (options.trustProxy as number)
        : (options.trustProxy ?? false),
    // Bad URLs (invalid percent-encoding, bad UTF-8) get the same error shape as everything else.
    frameworkErrors: (err, request, reply) => void sendError(request, reply, err),
  });
  const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  // A request for another host name (DNS rebinding, a stray virtual host) is refused before anything runs.
  app.addHook('onRequest', async (request) => {
    const host = (request.host ?? '').toLowerCase();
    if (!allowed.has(host) && !allowed.has(hostname(host))) {
      throw new DeskError('host_not_allowed', `this service does not answer for host ${host || '(none)'}`);
    }
  });
  void app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    // same-origin, not no-referrer: with no-referrer, browsers send `Origin: null` on same-origin form POSTs.
    referrerPolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
  });
  void app.register(cookie);
  void app.register(formbody);
  void app.register(csrf, { sessionPlugin: '@fastify/session' });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  // Defence in depth next to the CSRF tokens (and the only guard for the sign-in form, against login
  // CSRF): a browser's cross-site POST carries a foreign Origin, which is refused before any route runs.
  app.addHook('onRequest', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const origin = request.headers.origin;
    if (origin !== undefined && (origin === 'null' || originHost(origin) !== request.host)) {
      throw new DeskError('csrf', 'cross-site request refused');
    }
  });
  app.get<{ Params: { file: string } }>('/static/:file', async (request, reply) => {
    const file = Object.hasOwn(STATIC, request.params.file) ? STATIC[request.params.file] : undefined;
    if (!file) return reply.code(404).type('text/plain').send('not found');
    return reply.header('cache-control', 'public, max-age=300').type(file.type).send(file.body);
  });
  app.setErrorHandler((err: FastifyError, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new DeskError('not_found', `no route ${request.method} ${request.url.slice(0, 200)}`)),
  );
  return app;
}

/** Any error as a refusal: its code and status, JSON under /api, the route's own page or an error page elsewhere. */
async function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: Error & { statusCode?: number; code?: string },
) {
  const refusal = asRefusal(err);
  if (refusal.status >= 500) request.log.error(err);
  if (request.url.startsWith('/api/')) {
    return reply.code(refusal.status).send({ error: { code: refusal.code, message: refusal.message } });
  }
  const page = request.routeOptions.config?.refusalPage;
  const body = page ? await page(request, reply, refusal) : errorPage(undefined, refusal.status, refusal.message);
  return reply.code(refusal.status).type('text/html; charset=utf-8').send(body);
}

function asRefusal(err: Error & { statusCode?: number; code?: string }): DeskError {
  if (err instanceof DeskError) return err;
  if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
    return new DeskError('csrf', 'missing or wrong CSRF token: reload the page and try again');
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status >= 500) return new DeskError('internal', 'internal error');
  return new DeskError(status === 404 ? 'not_found' : 'bad_request', err.message, status);
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** The host name of a Host header value, without the port (IPv6 literals keep their brackets). */
function hostname(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
}

export function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}
