import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { KeyRing } from '../core/payload-encryption';
import {
  PayloadDecryptionFailed,
  UnknownEncryptionKey,
  payloadFromJson,
  payloadToJson,
} from '../core/payload-encryption';
import type { Authenticator, Principal } from './auth';
import { bearer } from './auth';
import { codecHomePage } from './codec-pages';
import { limit, rateLimitStore } from './rate-limit';
import { Sessions } from './session';
import type { ApprovalsStore } from './store';

/**
 * The codec server: Temporal's remote codec protocol (`POST /encode`, `POST /decode`, JSON
 * `{payloads: [...]}` in proto3 JSON form) over the deployment's key ring, so the Temporal Web UI and
 * `temporal workflow show --codec-endpoint …` show plaintext to authorised people only.
 *
 * - Authentication: `Authorization: Bearer <token>` (the CLI's `--codec-auth`), or a session cookie
 *   from this server's sign-in page (the Web UI's "Include cross-origin credentials"). Tokens are
 *   verified by an {@link Authenticator} — the approvals service's local tokens and OIDC — and must
 *   carry one of the configured roles (default `decrypt`).
 * - Browsers: CORS for the configured origins only (the Web UI's); a request from any other origin
 *   is refused before it is authenticated or decoded.
 * - Every encode/decode is reported to `onAccess` (who, what, how many): the record of who read what.
 */
export interface CodecServerOptions {
  ring: KeyRing;
  auth: Authenticator;
  /** Browser sessions and sign-in counters: the approvals service's store, shared by every instance. */
  store: ApprovalsStore;
  /** A principal needs one of these roles. */
  roles: string[];
  /** Browser origins allowed to call /encode and /decode (exact `scheme://host:port`). */
  origins: string[];
  secureCookies?: boolean;
  /** Where the Web UI is, for the sign-in page's instructions. */
  webUiUrl?: string;
  onAccess?: (entry: CodecAccess) => void;
  logger?: boolean | object;
  rateLimits?: { login?: number; windowMs?: number };
}

export interface CodecAccess {
  at: string;
  operation: 'encode' | 'decode';
  subject: string;
  via: 'token' | 'oidc' | 'session';
  namespace?: string;
  payloads: number;
  /** Set when the request failed (e.g. an unknown key id). */
  error?: string;
}

/** A refusal with its HTTP status and code, sent as `{error: {code, message}}`. */
export class CodecRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const Body = z.object({
  payloads: z.array(
    z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() }).loose(),
  ),
});

const ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  'x-namespace',
  'caller-type',
  'client-name',
  'client-version',
];

export function createCodecServer(options: CodecServerOptions): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 16 * 1024 * 1024 });
  // A session re-checks its credential on every request: a revoked token ends its codec sessions too.
  const sessions = new Sessions(options.store, options.auth, options.secureCookies ?? true, 'mandate_codec_session');
  const origins = new Set(options.origins);
  void app.register(cookie);
  void app.register(csrf, { sessionPlugin: '@fastify/session' });
  void app.register(rateLimit, { global: false, store: rateLimitStore(options.store) });
  const loginLimit = limit(
    options.rateLimits?.login ?? 10,
    options.rateLimits?.windowMs ?? 60_000,
    (request) => `codec-login:${request.ip}`,
    'sign-in attempts',
  );
  const allowedRole = (p: Principal) => p.roles.some((r) => options.roles.includes(r));

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    reply.header('vary', 'Origin');
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const refusal = err instanceof CodecRefusal ? err : undefined;
    const status = refusal?.status ?? (err.statusCode && err.statusCode < 500 ? err.statusCode : 500);
    if (status >= 500) request.log.error(err);
    const message = status >= 500 ? 'internal error' : err.message;
    return reply.code(status).send({ error: { code: refusal?.code ?? 'bad_request', message } });
  });

  /** The request's Origin: absent (CLI, scripts), this server's own (its sign-in page), or an allowed one. */
  function originOf(request: FastifyRequest): { origin?: string; cors: boolean } {
    const origin = request.headers.origin;
    if (origin === undefined) return { cors: false };
    if (origins.has(origin)) return { origin, cors: true };
    if (origin !== 'null' && hostOf(origin) === request.headers.host) return { origin, cors: false };
    throw new CodecRefusal(403, 'origin_refused', `origin ${origin} may not use this codec server`);
  }

  function cors(reply: FastifyReply, origin: string): void {
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
  }

  async function principalOf(request: FastifyRequest): Promise<{ principal: Principal; via: CodecAccess['via'] }> {
    const token = bearer(request.headers.authorization);
    let principal: Principal | undefined;
    let via: CodecAccess['via'];
    if (token) {
      principal = (await options.auth.authenticate(token))?.principal;
      if (!principal)
        throw new CodecRefusal(401, 'unauthenticated', 'the bearer token is not valid (expired or unknown)');
      via = principal.via;
    } else {
      principal = (await sessions.load(request))?.principal;
      if (!principal) throw new CodecRefusal(401, 'unauthenticated', 'send Authorization: Bearer <token>, or sign in');
      via = 'session';
    }
    if (!allowedRole(principal)) {
      throw new CodecRefusal(
        403,
        'forbidden',
        `${principal.subject} holds none of the roles ${options.roles.join(', ')}`,
      );
    }
    return { principal, via };
  }

  // Preflight: only allowed origins learn that credentials and these headers may be sent.
  app.options('/*', async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || !origins.has(origin))
      throw new CodecRefusal(403, 'origin_refused', `origin ${origin ?? '(none)'} is not allowed`);
    cors(reply, origin);
    reply.header('access-control-allow-methods', 'POST');
    reply.header('access-control-allow-headers', ALLOWED_HEADERS.join(', '));
    reply.header('access-control-max-age', '600');
    return reply.code(204).send();
  });

  for (const operation of ['encode', 'decode'] as const) {
    app.post(`/${operation}`, async (request, reply) => {
      const { origin, cors: isCors } = originOf(request);
      if (origin && isCors) cors(reply, origin);
      const { principal, via } = await principalOf(request);
      const body = Body.safeParse(request.body);
      if (!body.success)
        throw new CodecRefusal(400, 'bad_request', 'expected JSON {"payloads": [{"metadata": {…}, "data": "…"}]}');
      const namespace = typeof request.headers['x-namespace'] === 'string' ? request.headers['x-namespace'] : undefined;
      const access: CodecAccess = {
        at: new Date().toISOString(),
        operation,
        subject: principal.subject,
        via,
        ...(namespace ? { namespace } : {}),
        payloads: body.data.payloads.length,
      };
      try {
        const payloads = body.data.payloads.map((p) => {
          const payload = payloadFromJson(p);
          return payloadToJson(operation === 'encode' ? options.ring.encrypt(payload) : options.ring.decrypt(payload));
        });
        options.onAccess?.(access);
        return { payloads };
      } catch (err) {
        options.onAccess?.({ ...access, error: (err as Error).message });
        if (err instanceof UnknownEncryptionKey) throw new CodecRefusal(422, 'unknown_key', err.message);
        if (err instanceof PayloadDecryptionFailed) throw new CodecRefusal(422, 'undecryptable', err.message);
        throw err;
      }
    });
  }

  // Sign-in for browsers: the Web UI then sends the session cookie with "Include cross-origin credentials".
  app.get('/', async (request, reply) => {
    const session = await sessions.load(request);
    return html(
      reply,
      200,
      codecHomePage({ principal: session?.principal, roles: options.roles, webUiUrl: options.webUiUrl }),
    );
  });
  app.post<{ Body: { token?: string } }>('/login', { config: { rateLimit: loginLimit } }, async (request, reply) => {
    sameOriginForm(request);
    const who = request.body?.token ? await options.auth.authenticate(request.body.token.trim()) : undefined;
    const principal = who?.principal;
    const refusal = !principal
      ? 'That token is not valid.'
      : !allowedRole(principal)
        ? `${principal.subject} holds none of the roles ${options.roles.join(', ')}.`
        : undefined;
    if (refusal)
      return html(
        reply,
        principal ? 403 : 401,
        codecHomePage({ roles: options.roles, webUiUrl: options.webUiUrl, error: refusal }),
      );
    await sessions.create(request, reply, who!);
    return reply.redirect('/', 303);
  });
  app.post('/logout', async (request, reply) => {
    sameOriginForm(request);
    await sessions.destroy(request, reply);
    return reply.redirect('/', 303);
  });
  app.get('/healthz', async () => ({ ok: true }));
  return app;
}

/** The sign-in and sign-out forms accept only this server's own pages (no login CSRF). */
function sameOriginForm(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin !== undefined && hostOf(origin) !== request.headers.host) {
    throw new CodecRefusal(403, 'origin_refused', 'cross-site request refused');
  }
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}
