import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Witness } from './witness';

/**
 * The witness's HTTP interface (C2SP tlog-witness): `POST /add-checkpoint` and, for monitors,
 * `GET /<sha256 hex of the origin>/checkpoint` (the latest cosigned checkpoint). No authentication:
 * the log's signature on the checkpoint is what a request is judged by.
 */
export const MAX_REQUEST_BYTES = 16 * 1024;

export function createWitnessServer(witness: Witness, options: { logger?: boolean | object } = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: MAX_REQUEST_BYTES });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post('/add-checkpoint', async (request, reply) => {
    const body = typeof request.body === 'string' ? request.body : '';
    const result = await witness.addCheckpoint(body);
    return reply.code(result.status).type(result.contentType).send(result.body);
  });

  app.get<{ Params: { origin: string } }>('/:origin/checkpoint', async (request, reply) => {
    const checkpoint = /^[0-9a-f]{64}$/.test(request.params.origin)
      ? witness.latestCheckpoint(request.params.origin)
      : undefined;
    if (!checkpoint)
      return reply.code(404).type('text/plain; charset=utf-8').send('no checkpoint cosigned for this log\n');
    return reply.type('text/plain; charset=utf-8').send(checkpoint);
  });

  app.get('/healthz', async () => ({ ok: true, name: witness.name, verifierKey: witness.verifierKey }));
  return app;
}
