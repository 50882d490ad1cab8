import type { FastifyInstance } from 'fastify';
import type { ApprovalsDesk } from './desk';
import type { Identities } from './identity';

/**
 * The live Explain rail: `GET /api/missions/:id/events` streams server-sent events — `observation`
 * (id = its seq, so a reconnecting browser resumes with Last-Event-ID) and `status` — until the
 * mission closes or the stream has run its course (the browser then reconnects and is
 * authenticated again). The service follows the mission with its state queries; the page keeps a
 * polling fallback for browsers or proxies that do not pass event streams.
 */
const TICK_MS = 1000;
const STREAM_MS = 5 * 60 * 1000;
const HEARTBEAT_MS = 15_000;
const OPEN = new Set(['running', 'awaiting_approval', 'paused']);

export function registerLiveRail(app: FastifyInstance, deps: { desk: ApprovalsDesk; identities: Identities }): void {
  app.get<{ Params: { id: string }; Querystring: { after?: string } }>(
    '/api/missions/:id/events',
    async (request, reply) => {
      const { principal } = await deps.identities.require(request);
      const id = request.params.id;
      const resume = Number(request.headers['last-event-id'] ?? request.query.after ?? 0);
      let seq = Number.isSafeInteger(resume) && resume > 0 ? resume : 0;
      // Refusals (401, 403, 404) are answered as JSON before the stream starts.
      let next = await deps.desk.follow(principal, id, seq);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      let closed = false;
      request.raw.on('close', () => (closed = true));
      const send = (event: string, data: unknown, eventId?: number) =>
        res.write(
          `${eventId === undefined ? '' : `id: ${eventId}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
        );
      const started = Date.now();
      let status = '';
      let beat = Date.now();
      while (!closed) {
        for (const o of next.observations) send('observation', o, (seq = o.seq));
        if (next.status !== status) send('status', { status: (status = next.status) });
        if (!OPEN.has(status) || Date.now() - started > STREAM_MS) break;
        if (Date.now() - beat > HEARTBEAT_MS) {
          res.write(': keep-alive\n\n');
          beat = Date.now();
        }
        await new Promise((r) => setTimeout(r, TICK_MS));
        if (closed) break;
        // Each tick asks again who is watching: a revoked credential or lost access ends the stream.
        const viewer = await deps.identities.fresh(request);
        if (!viewer) break;
        next = await deps.desk.follow(viewer.principal, id, seq).catch(() => ({ status: 'gone', observations: [] }));
        if (next.status === 'gone') break;
      }
      if (!closed) {
        if (!OPEN.has(status)) send('end', { status });
        res.end();
      }
    },
  );
}
