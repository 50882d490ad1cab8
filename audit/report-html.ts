import { createHash } from 'node:crypto';
import { formatAmount } from '../core/format';
import type { DecisionReport, ReportAction, ReportSignature } from './report';
import { headline, MARK, verificationTitle } from './report-summary';
import type { ReportVerification } from './report-verification';
import type { Timeline } from './timeline';
import { humanDuration } from './timeline';
import { timelineSvg } from './timeline-svg';

/**
 * The decision report as a page people read, check and hand over: a verdict banner (what happened in
 * one sentence, and each verification check ✓/✗/– with its reason and key id), a timeline, then the
 * six layers as readable sections — money as money, params as tables, hashes shortened (a click
 * selects the whole hash to copy), raw JSON folded away. Self-contained: one inline style sheet (its
 * hash is exported for a Content-Security-Policy), no scripts, A4 print rules. Everything that came
 * from a model or an integration is escaped, control and bidirectional characters made visible, and
 * bounded in size.
 */
export const REPORT_CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--na:#6e7781;--warn:#9a6700;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#fff}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:17px;border-bottom:1px solid var(--line);padding-bottom:4px;margin:28px 0 8px}
h3{font-size:14px;margin:16px 0 6px}
.banner{border:2px solid var(--na);border-radius:8px;padding:14px 18px;background:var(--bg)}
.banner.verified{border-color:var(--ok);background:#dafbe1}
.banner.failed{border-color:var(--bad);background:#ffebe9}
.banner.partly{border-color:var(--warn);background:#fff8c5}
.banner .status{font-weight:700;margin:6px 0}
.banner .headline{font-size:15px;margin:4px 0 10px}
.checks{list-style:none;padding:0;margin:0}
.checks li{padding:2px 0;break-inside:avoid}
.mark{display:inline-block;width:1.3em;font-weight:700}
.ok .mark{color:var(--ok)}.failed .mark{color:var(--bad)}.na .mark{color:var(--na)}
.checks .reason{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:500;width:26%}
table.grid th{width:auto;background:var(--bg)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
code.hash{display:inline-block;max-width:16ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom;user-select:all;cursor:copy;background:var(--bg);padding:0 4px;border-radius:4px}
.data{white-space:pre-wrap;word-break:break-word}
.label{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
pre{white-space:pre-wrap;word-break:break-all;font-size:12px;background:var(--bg);padding:8px;border-radius:6px;margin:4px 0}
details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}
.tag{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;background:var(--bg);border:1px solid var(--line)}
.tag.ok{border-color:var(--ok);color:var(--ok)}.tag.failed{border-color:var(--bad);color:var(--bad)}
.timeline svg{width:100%;height:auto;display:block}
footer{margin-top:32px;color:var(--muted);font-size:12px}
nav.links{margin:0 0 12px;font-size:13px}nav.links a{color:#0969da}
@page{size:A4;margin:14mm}
@media print{nav.links{display:none}main{max-width:none;padding:0}.banner,tr,li,svg{break-inside:avoid}h2{break-after:avoid}details:not([open]){display:none}code.hash{max-width:none}}
`;

/** `style-src` source for a Content-Security-Policy that allows exactly the report's style sheet. */
export const REPORT_CSS_HASH = `'sha256-${createHash('sha256').update(REPORT_CSS).digest('base64')}'`;

const MAX_TEXT = 4_000;

export function renderReportHtml(
  report: DecisionReport,
  options: {
    verification?: ReportVerification;
    timeline?: Timeline;
    /** Link this style sheet (served as REPORT_CSS) instead of inlining it: for a CSP of `style-src 'self'`. */
    stylesheet?: string;
    /** Links shown under the banner (the approvals service: PDF, evidence package, back to the list). */
    links?: { href: string; label: string }[];
  } = {},
): string {
  const title = `Decision report: ${report.workflowId ?? '?'}`;
  const style = options.stylesheet
    ? `<link rel="stylesheet" href="${esc(options.stylesheet)}">`
    : `<style>${REPORT_CSS}</style>`;
  const links = options.links?.length
    ? `<nav class="links">${options.links.map((l) => `<a href="${esc(l.href)}">${esc(l.label)}</a>`).join(' · ')}</nav>`
    : '';
  const parts = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>${style}</head><body><main>`,
    links,
    banner(report, title, options.verification),
    options.timeline
      ? `<section class="timeline"><h2>Timeline</h2>${timelineSvg(options.timeline)}${timelineList(options.timeline)}</section>`
      : '',
    missionSection(report),
    inputsSection(report),
    policySection(report),
    decisionSection(report),
    approvalsSection(report),
    actionSection(report),
    outcomeSection(report),
    signersSection(report),
    report.notes.length ? section('Notes', table(report.notes.map((n) => [`event ${n.eventId}`, text(n.note)]))) : '',
    `<details><summary>Raw report JSON</summary><pre>${esc(bounded(JSON.stringify(report, null, 2), 200_000))}</pre></details>`,
    `<footer>${esc(report.schema)} · built from the run's event history alone</footer>`,
    '</main></body></html>',
    '',
  ];
  return parts.filter((p) => p !== '').join('\n');
}

function banner(report: DecisionReport, title: string, verification: ReportVerification | undefined): string {
  const cls = verification
    ? { verified: 'verified', failed: 'failed', 'partly verified': 'partly' }[verification.status]
    : '';
  const checks = verification
    ? `<p class="status">${esc(verificationTitle(verification))}</p><ul class="checks">${verification.checks
        .map((c) => {
          const k = c.status === 'ok' ? 'ok' : c.status === 'failed' ? 'failed' : 'na';
          return `<li class="${k}"><span class="mark">${MARK[c.status]}</span><b>${esc(c.label)}</b> <span class="reason">${esc(
            c.reason,
          )}</span>${c.keyId ? ` <span class="label">key</span> <code>${esc(c.keyId)}</code>` : ''}</li>`;
        })
        .join('')}</ul>`
    : '<p class="status">Not verified: no store or package evidence was given (only the history was read)</p>';
  return `<header class="banner ${cls}"><h1>${esc(title)}</h1><p class="headline">${esc(headline(report))}</p>${checks}</header>`;
}

function missionSection(r: DecisionReport): string {
  const duration = r.startedAt && r.closedAt ? humanDuration(Date.parse(r.closedAt) - Date.parse(r.startedAt)) : '—';
  return section(
    'Mission',
    table([
      ['mission', esc(r.workflowId ?? '—')],
      ['run', hash(r.runId)],
      ['mission type', esc(r.missionType ?? '—')],
      ['started', time(r.startedAt)],
      ['closed', `${time(r.closedAt)} (${esc(duration)})`],
      ['definition', hash(r.definitionVersion)],
      [
        'worker build ids',
        r.workerBuildIds.map((b) => `<code>${esc(b.split('+')[0])}</code> ${hash(b.split('+')[1])}`).join('<br>') ||
          '—',
      ],
    ]),
  );
}

function inputsSection(r: DecisionReport): string {
  const { inputs } = r.layers;
  const reads = inputs.reads.length
    ? `<h3>Reads</h3>${grid(
        ['at', 'operation', 'params', 'result'],
        inputs.reads.map((x) => [
          time(x.at),
          `<code>${esc(x.operation ?? '?')}</code>`,
          params(x.params),
          x.ok ? '<span class="tag ok">read</span>' : `<span class="tag failed">refused</span> ${text(x.refused)}`,
        ]),
      )}`
    : '';
  return section(
    '1. Inputs',
    table([
      ['at', time(inputs.at)],
      ['initiator', esc(inputs.initiator ?? '—')],
      ['input', params(inputs.input)],
      ['definition', `${text(inputs.definitionTitle)} ${hash(inputs.definitionVersion)}`],
    ]) + reads,
  );
}

function policySection(r: DecisionReport): string {
  const rows = r.layers.policy;
  if (!rows.length) return section('2. Policy', '<p>No action was proposed.</p>');
  return section(
    '2. Policy',
    rows
      .map(
        (p) =>
          `<h3>${esc(p.actionId ?? '?')}</h3>${table([
            ['policy version', hash(p.policyVersion)],
            ['matched rules', p.ruleIds.map((id) => `<code>${esc(id)}</code>`).join(', ') || 'none: default deny'],
            ['reasons', p.reasons.map(text).join('<br>') || '—'],
            ['evaluated at', time(p.at)],
          ])}${p.extra ? folded('Policy details', p.extra) : ''}`,
      )
      .join(''),
  );
}

function decisionSection(r: DecisionReport): string {
  const rows = r.layers.decision;
  if (!rows.length) return section('3. Decision', '<p>No decision was taken.</p>');
  return section(
    '3. Decision',
    rows
      .map(
        (d) =>
          `<h3>${esc(d.actionId ?? '?')}: <code>${esc(d.operation ?? '?')}</code></h3>${table([
            ['proposed at', time(d.proposedAt)],
            ['params', params(d.params)],
            ['params hash', hash(d.paramsHash)],
            ['rationale', `<span class="label">the model's words</span><br>${text(d.rationale)}`],
            [
              'outcome',
              `<b>${esc(d.outcome ?? '?')}</b>${d.tier ? ` (tier ${esc(d.tier)})` : ''} at ${time(d.decidedAt)}`,
            ],
          ])}`,
      )
      .join(''),
  );
}

function approvalsSection(r: DecisionReport): string {
  const rows = r.layers.approvals;
  if (!rows.length) return section('4. Approvals', '<p>None required or given.</p>');
  return section(
    '4. Approvals',
    grid(
      ['at', 'action', 'approver', 'decision', 'reason', 'via', 'counted', 'signature'],
      rows.map((a) => [
        time(a.at),
        esc(a.actionId ?? '?'),
        `${esc(a.approver ?? '?')}${a.roles?.length ? `<br><span class="label">${esc(a.roles.join(', '))}</span>` : ''}`,
        esc(a.decision ?? '?'),
        text(a.reason),
        esc(a.via),
        `${esc(a.result)}${a.refusal ? `: ${text(a.refusal)}` : ''}`,
        a.via === 'timeout' ? 'none: the gate timed out' : signature(a),
      ]),
    ),
  );
}

/** A signature as the report checked it against the pinned keys: the tag, the key id, why not. */
function signature(sig: ReportSignature): string {
  const cls = sig.signature === 'valid' ? 'ok' : 'failed';
  return `<span class="tag ${cls}">${esc(sig.signature)}</span>${sig.keyId ? ` <code>${esc(sig.keyId)}</code>` : ''}${
    sig.breakGlass ? ' <span class="label">break-glass</span>' : ''
  }${sig.signatureProblem ? `<br>${text(sig.signatureProblem)}` : ''}`;
}

/** Who may sign what: the keys pinned at the start, the start's and each control's signature, any problem. */
function signersSection(r: DecisionReport): string {
  const { trust } = r;
  const start = trust.start.carried
    ? 'a continuation: the start was checked in the first run'
    : `${esc(trust.start.initiator ?? '?')} — ${signature(trust.start)}`;
  const keys = trust.pinnedKeys.length
    ? grid(
        ['key id', 'name', 'may sign', 'public key'],
        trust.pinnedKeys.map((k) => [
          `<code>${esc(k.keyId)}</code>`,
          `${esc(k.name ?? '—')}${k.breakGlass ? ' <span class="label">break-glass</span>' : ''}`,
          esc(k.may.join(', ')),
          folded('SPKI PEM', undefined, `<pre>${esc(k.publicKey ?? '')}</pre>`),
        ]),
      )
    : '<p>No keys pinned (a history recorded before the trust chain).</p>';
  const controls = trust.controls.length
    ? `<h3>Controls</h3>${grid(
        ['at', 'control', 'by', 'reason', 'signature'],
        trust.controls.map((c) => [time(c.at), esc(c.kind ?? '?'), esc(c.by ?? '?'), text(c.reason), signature(c)]),
      )}`
    : '';
  const problems = trust.problems.length
    ? `<h3>Trust problems</h3><ul>${trust.problems.map((p) => `<li>${text(p)}</li>`).join('')}</ul>`
    : '';
  return section(
    'Signers',
    `${table([['start', start]])}<h3>Keys pinned at the start</h3>${keys}${controls}${problems}`,
  );
}

function actionSection(r: DecisionReport): string {
  const rows = r.layers.action;
  if (!rows.length) return section('5. Action', '<p>Nothing was executed.</p>');
  return section('5. Action', rows.map(actionBlock).join(''));
}

function actionBlock(x: ReportAction): string {
  const grant = x.grant as { claims?: Record<string, unknown>; keyId?: string } | undefined;
  const claims = grant?.claims ?? {};
  const grantRows: [string, string][] = grant
    ? [
        [
          'grant',
          `<code>${esc(String(claims.grantId ?? '?'))}</code> signed by key <code>${esc(grant.keyId ?? '?')}</code>`,
        ],
        ['grant valid', `${time(claims.issuedAt as string)} → ${time(claims.expiresAt as string)}`],
        [
          'grant approvers',
          esc(Array.isArray(claims.approvers) ? claims.approvers.join(', ') || 'none (policy allowed)' : '—'),
        ],
        [
          'grant binding',
          x.grantBinding?.startsWith('bound')
            ? `<span class="tag ok">${esc(x.grantBinding)}</span>`
            : `<span class="tag failed">${esc(x.grantBinding ?? '—')}</span>`,
        ],
      ]
    : [['grant', 'none recorded in history']];
  return `<h3>${esc(x.actionId ?? '?')}: <code>${esc(x.operation ?? '?')}</code> — ${esc(x.status)}</h3>${table([
    ['at', time(x.completedAt ?? x.scheduledAt)],
    ['params hash', hash(x.paramsHash)],
    ...grantRows,
    [x.failure ? 'failure' : 'result', x.failure ? text(x.failure) : params(x.result)],
  ])}${grant ? folded('Raw grant', grant) : ''}`;
}

function outcomeSection(r: DecisionReport): string {
  const o = r.layers.outcome;
  return section(
    '6. Outcome',
    table([
      ['status', esc(o.status)],
      ['verdict', `<b>${esc(o.verdict ?? '—')}</b>`],
      ['summary', `<span class="label">the mission's own words</span><br>${text(o.summary ?? o.failure)}`],
      ['at', time(o.at)],
    ]),
  );
}

function timelineList(t: Timeline): string {
  return folded(
    'Timeline as a list',
    undefined,
    grid(
      ['start', 'step', 'took'],
      t.spans.map((s) => [time(s.start), text(s.label), esc(humanDuration(s.ms))]),
    ),
  );
}

// ---- small builders ---------------------------------------------------------------------------

function section(title: string, body: string): string {
  return `<section><h2>${esc(title)}</h2>${body}</section>`;
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v || '—'}</td></tr>`).join('')}</table>`;
}

function grid(headers: string[], rows: string[][]): string {
  return `<table class="grid"><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c || '—'}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Params as a small table; amounts in minor units shown as money; nested values as folded JSON. */
function params(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value !== 'object' || Array.isArray(value))
    return text(typeof value === 'string' ? value : JSON.stringify(value));
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.length) return '<span class="label">none</span>';
  const money = formatAmount(value as Record<string, unknown>);
  return `<table class="params">${entries
    .map(([k, v]) => {
      const shown =
        k === 'amountCents' && money
          ? `<b>${esc(money)}</b> <span class="label">${esc(String(v))} in minor units</span>`
          : v !== null && typeof v === 'object'
            ? `<pre>${esc(bounded(JSON.stringify(v, null, 2)))}</pre>`
            : text(String(v));
      return `<tr><th>${esc(k)}</th><td>${shown}</td></tr>`;
    })
    .join('')}</table>`;
}

function folded(summary: string, value: unknown, html?: string): string {
  return `<details><summary>${esc(summary)}</summary>${html ?? `<pre>${esc(bounded(JSON.stringify(value, null, 2)))}</pre>`}</details>`;
}

function hash(value: string | undefined): string {
  return value ? `<code class="hash" title="${esc(value)}">${esc(value)}</code>` : '—';
}

function time(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return esc(iso);
  return `<time datetime="${esc(iso)}">${esc(
    d
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC')
      .replace(/Z$/, ' UTC'),
  )}</time>`;
}

/** Text from a model, an integration or a person: escaped, invisible controls shown, bounded. */
function text(value: string | undefined): string {
  if (value === undefined || value === '') return '—';
  return `<span class="data">${esc(visible(bounded(value)))}</span>`;
}

function visible(value: string): string {
  return value.replace(
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
}

function bounded(value: string, max = MAX_TEXT): string {
  return value.length > max ? `${value.slice(0, max)}… (${value.length - max} more characters)` : value;
}

export function esc(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
