import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildPackage } from '../audit/package';
import { REPORT_CSS, renderReportHtml } from '../audit/report-html';
import { renderPdf } from '../audit/report-pdf';
import type { Principal } from './auth';
import type { AuditFilters, AuditPageOptions, AuditRow } from './audit-index';
import { AuditIndex } from './audit-index';
import { esc, layout } from './html';
import { errorPage } from './pages';
import type { Identities } from './identity';

/**
 * The Audit page, for the read-only `auditor` role: exported missions with filters (type, verdict,
 * close date, approver), each with its verification status, and for each the readable report (its
 * banner, timeline and sections), the PDF and the evidence package. Nothing here can change
 * anything: every route is a GET.
 */
export const AUDITOR_ROLE = 'auditor';

export type { AuditPageOptions } from './audit-index';

export function registerAuditPages(
  app: FastifyInstance,
  deps: { identities: Identities; audit?: AuditPageOptions },
): void {
  const { identities, audit } = deps;
  const index = audit ? new AuditIndex(audit) : undefined;

  /** The auditor's principal, or the reply already sent (sign-in redirect, 403, or no store configured). */
  async function auditor(request: FastifyRequest, reply: FastifyReply): Promise<Principal | undefined> {
    const session = await identities.of(request);
    if (!session) {
      void reply.redirect('/login', 303);
      return undefined;
    }
    if (!session.principal.roles.includes(AUDITOR_ROLE)) {
      void page(reply, 403, errorPage(session.principal, 403, 'The Audit page is for the auditor role.'));
      return undefined;
    }
    if (!index) {
      void page(reply, 404, errorPage(session.principal, 404, 'No audit store is configured for this service.'));
      return undefined;
    }
    return session.principal;
  }

  app.get('/audit/report.css', async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(REPORT_CSS),
  );

  app.get<{ Querystring: Record<string, string | undefined> }>('/audit', async (request, reply) => {
    const principal = await auditor(request, reply);
    if (!principal) return reply;
    const q = request.query;
    const date = (v: string | undefined) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined);
    const filters: AuditFilters = {
      type: q.type || undefined,
      verdict: q.verdict || undefined,
      approver: q.approver || undefined,
      from: date(q.from),
      to: date(q.to),
    };
    const listed = await index!.list(filters);
    return page(reply, 200, auditListPage(principal, filters, listed));
  });

  app.get<{ Params: { workflowId: string; runId: string; file: string } }>(
    '/audit/runs/:workflowId/:runId/:file',
    async (request, reply) => {
      const principal = await auditor(request, reply);
      if (!principal) return reply;
      const { workflowId, runId, file } = request.params;
      const base = `/audit/runs/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}`;
      if (file === 'report') {
        const readable = await index!.report(workflowId, runId);
        if (!readable) return page(reply, 404, errorPage(principal, 404, 'No such exported run.'));
        return page(
          reply,
          200,
          renderReportHtml(readable.report, {
            ...readable,
            stylesheet: '/audit/report.css',
            links: [
              { href: '/audit', label: '← all exported missions' },
              { href: `${base}/report.pdf`, label: 'PDF' },
              { href: `${base}/evidence.zip`, label: 'evidence package' },
            ],
          }),
        );
      }
      if (file === 'report.pdf') {
        const readable = await index!.report(workflowId, runId);
        if (!readable) return page(reply, 404, errorPage(principal, 404, 'No such exported run.'));
        const pdf = await renderPdf(
          renderReportHtml(readable.report, readable),
          audit!.chromium ?? '/usr/bin/chromium',
        );
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="${fileName(workflowId)}.pdf"`)
          .send(pdf);
      }
      if (file === 'evidence.zip') {
        const readable = await index!.report(workflowId, runId, 'earliest');
        if (!readable) return page(reply, 404, errorPage(principal, 404, 'No such exported run.'));
        return reply
          .type('application/zip')
          .header('content-disposition', `attachment; filename="${fileName(workflowId)}-evidence.zip"`)
          .send(buildPackage(readable.evidence, audit!.keys, 'evidence.zip'));
      }
      return page(reply, 404, errorPage(principal, 404, 'no such page'));
    },
  );
}

function auditListPage(
  principal: Principal,
  filters: AuditFilters,
  listed: { rows: AuditRow[]; types: string[]; verdicts: string[] },
): string {
  const option = (v: string, selected?: string) =>
    `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(v)}</option>`;
  const rows = listed.rows
    .map((r) => {
      const base = `/audit/runs/${encodeURIComponent(r.workflowId)}/${encodeURIComponent(r.runId)}`;
      const status =
        r.verification === 'verified'
          ? '<span class="pill good">✓ verified</span>'
          : r.verification === 'failed'
            ? `<span class="pill bad">✗ failed</span> <span class="hint">${esc(r.failed.join('; '))}</span>`
            : '<span class="pill">– partly verified</span>';
      return `<tr data-testid="audit-row"><td><a href="${base}/report">${esc(r.workflowId)}</a></td><td>${esc(r.missionType ?? '—')}</td>
<td>${esc(r.verdict ?? r.status)}</td><td><time datetime="${esc(r.closedAt ?? '')}">${esc((r.closedAt ?? '').slice(0, 19).replace('T', ' '))}</time></td>
<td>${esc(r.approvers.join(', ') || '—')}</td><td>${status}</td>
<td><a href="${base}/report">report</a> · <a href="${base}/report.pdf">PDF</a> · <a href="${base}/evidence.zip">package</a></td></tr>`;
    })
    .join('\n');
  return layout({
    title: 'Audit',
    principal,
    body: `<h1>Audit</h1>
<form class="filters" method="get" action="/audit">
<select name="type" aria-label="Mission type"><option value="">all types</option>${listed.types.map((t) => option(t, filters.type)).join('')}</select>
<select name="verdict" aria-label="Verdict"><option value="">all verdicts</option>${listed.verdicts.map((v) => option(v, filters.verdict)).join('')}</select>
<input name="from" type="date" aria-label="Closed from" value="${esc(filters.from)}">
<input name="to" type="date" aria-label="Closed until" value="${esc(filters.to)}">
<input name="approver" type="search" placeholder="approver" aria-label="Approver" value="${esc(filters.approver)}">
<button type="submit">Filter</button></form>
<p class="count" data-testid="audit-count">${listed.rows.length} exported mission run${listed.rows.length === 1 ? '' : 's'}, newest first; each verified against the audit store</p>
<table class="audit"><thead><tr><th>mission</th><th>type</th><th>verdict</th><th>closed (UTC)</th><th>approvers</th><th>verification</th><th></th></tr></thead>
<tbody>${rows}</tbody></table>`,
  });
}

function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

function fileName(workflowId: string): string {
  return workflowId.replace(/[^A-Za-z0-9._-]/g, '_');
}
