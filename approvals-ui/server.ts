import type { Client } from '@temporalio/client';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { getMission, listPendingApprovals, MissionNotFound } from '../core/client/missions';
import type { PendingItem } from '../core/client/missions';

/**
 * The approvals service. This first cut serves the Decision Queue read-only (a page and a JSON API);
 * deciding goes through `mandate approve|reject` until authenticated decisions land here.
 */
export interface ApprovalsServiceOptions {
  client: Client;
  logger?: boolean | object;
}

export function createApprovalsService(options: ApprovalsServiceOptions): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false });
  const { client } = options;

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/api/queue', async () => ({ items: await listPendingApprovals(client) }));
  app.get<{ Params: { id: string } }>('/api/missions/:id', async (request, reply) => {
    try {
      return await getMission(client, request.params.id);
    } catch (err) {
      if (err instanceof MissionNotFound)
        return reply.code(404).send({ error: { code: 'not_found', message: err.message } });
      throw err;
    }
  });
  app.get('/', async (_request, reply) => {
    const items = await listPendingApprovals(client);
    reply.header('content-security-policy', "default-src 'none'; style-src 'self'; frame-ancestors 'none'");
    return reply.type('text/html; charset=utf-8').send(queuePage(items));
  });
  return app;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function queuePage(items: PendingItem[]): string {
  const rows = items
    .map((i) => {
      const cells = [i.missionId, i.actionId, i.operation, JSON.stringify(i.params), i.tier, i.initiator, i.deadline];
      return `<tr>${cells.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mandate — Decision Queue</title></head><body>
<h1>Decision Queue</h1>
<p>${items.length} action(s) waiting. Decide with <code>npx mandate approve &lt;mission&gt; &lt;action&gt; --as &lt;you&gt;</code>.</p>
<table><thead><tr><th>Mission</th><th>Action</th><th>Operation</th><th>Params</th><th>Tier</th><th>Initiator</th><th>Deadline</th></tr></thead>
<tbody>${rows}</tbody></table></body></html>`;
}
