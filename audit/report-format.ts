import type { DecisionReport, ReportSignature } from './report';
import { renderReportHtml } from './report-html';
import { headline, MARK, verificationTitle } from './report-summary';
import type { ReportVerification } from './report-verification';
import type { Timeline } from './timeline';
import { humanDuration } from './timeline';

/**
 * Renders a decision report as text, Markdown, JSON or HTML (every value escaped), each opening with
 * the verdict: one sentence, and the verification checks when evidence was given. (PDF is the HTML
 * page printed by a browser: see cli/report-pdf.ts.)
 */
export const REPORT_FORMATS = ['text', 'markdown', 'json', 'html', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportExtras {
  verification?: ReportVerification;
  timeline?: Timeline;
}

interface Section {
  title: string;
  rows: [string, string][];
}

const show = (v: unknown): string =>
  v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v);

/** The six layers as titled key/value sections: one model, four renderings. */
export function reportSections(report: DecisionReport): Section[] {
  const { inputs, policy, decision, approvals, action, outcome } = report.layers;
  const sections: Section[] = [
    {
      title: 'Mission',
      rows: [
        ['workflow', `${show(report.workflowId)} run ${show(report.runId)}`],
        ['mission type', show(report.missionType)],
        ['started', show(report.startedAt)],
        ['closed', show(report.closedAt)],
        ['worker build ids', report.workerBuildIds.join(', ') || '—'],
      ],
    },
    {
      title: '1. Inputs',
      rows: [
        ['at', show(inputs.at)],
        ['initiator', show(inputs.initiator)],
        ['input', show(inputs.input)],
        ['definition', `${show(inputs.definitionTitle)} (version ${show(inputs.definitionVersion)})`],
        ...inputs.reads.map((r, i): [string, string] => [
          `read ${i + 1}`,
          `${show(r.at)} ${show(r.operation)} ${show(r.params)}${r.ok ? '' : ` refused: ${show(r.refused)}`}`,
        ]),
      ],
    },
    {
      title: '2. Policy',
      rows: policy.length
        ? policy.flatMap((p): [string, string][] => [
            [`${show(p.actionId)} policy version`, show(p.policyVersion)],
            [`${show(p.actionId)} matched rules`, p.ruleIds.join(', ') || '(none: default deny)'],
            [`${show(p.actionId)} reasons`, p.reasons.join('; ') || '—'],
            // What else the decision recorded: the facts and figures policy saw, the check that denied.
            ...Object.entries(p.extra ?? {}).map(([key, value]): [string, string] => [
              `${show(p.actionId)} ${key}`,
              show(value),
            ]),
            [`${show(p.actionId)} evaluated at`, show(p.at)],
          ])
        : [['policy', 'no action was proposed']],
    },
    {
      title: '3. Decision',
      rows: decision.length
        ? decision.flatMap((d): [string, string][] => [
            [`${show(d.actionId)} proposed`, `${show(d.proposedAt)} ${show(d.operation)} ${show(d.params)}`],
            [`${show(d.actionId)} rationale`, show(d.rationale)],
            [`${show(d.actionId)} params hash`, show(d.paramsHash)],
            [
              `${show(d.actionId)} outcome`,
              `${show(d.outcome)}${d.tier ? ` (tier ${d.tier})` : ''} at ${show(d.decidedAt)}`,
            ],
          ])
        : [['decision', 'no decision was taken']],
    },
    {
      title: '4. Approvals',
      rows: [
        ['initiator', `${show(report.trust.start.initiator)} — start ${signatureText(report.trust.start)}`] as [
          string,
          string,
        ],
        ...(approvals.length
          ? approvals.map((a): [string, string] => [
              `${show(a.actionId)} ${a.via}`,
              `${show(a.at)} ${show(a.approver)}${a.roles?.length ? ` (${a.roles.join(', ')})` : ''} ${show(a.decision)}${
                a.reason ? ` — ${a.reason}` : ''
              } [${a.result}${a.refusal ? `: ${a.refusal}` : ''}; ${a.via === 'timeout' ? 'no signature: the gate timed out' : signatureText(a)}]`,
            ])
          : [['approvals', 'none required or given'] as [string, string]]),
        ...report.trust.controls.map((c): [string, string] => [
          `control ${show(c.kind)}`,
          `${show(c.at)} ${show(c.by)} — ${show(c.reason)} [${signatureText(c)}]`,
        ]),
        [
          'pinned keys',
          report.trust.pinnedKeys
            .map((k) => `${k.keyId}${k.breakGlass ? ' (break-glass)' : ''}: ${k.may.join(', ')}`)
            .join('; ') || 'none (recorded before signed votes)',
        ],
        ...report.trust.problems.map((p): [string, string] => ['TRUST PROBLEM', p]),
      ],
    },
    {
      title: '5. Action',
      rows: action.length
        ? action.flatMap((x): [string, string][] => [
            [`${show(x.actionId)} ${show(x.operation)}`, `${x.status} at ${show(x.completedAt ?? x.scheduledAt)}`],
            [`${show(x.actionId)} params hash`, show(x.paramsHash)],
            [`${show(x.actionId)} grant`, x.grant === undefined ? 'none recorded in history' : show(x.grant)],
            ...(x.grantBinding ? [[`${show(x.actionId)} grant binding`, x.grantBinding] as [string, string]] : []),
            [`${show(x.actionId)} result`, show(x.failure ?? x.result)],
          ])
        : [['action', 'nothing was executed']],
    },
    {
      title: '6. Outcome',
      rows: [
        ['status', outcome.status],
        ['verdict', show(outcome.verdict)],
        ['summary', show(outcome.summary ?? outcome.failure)],
        ['at', show(outcome.at)],
      ],
    },
  ];
  if (report.notes.length) {
    sections.push({ title: 'Notes', rows: report.notes.map((n): [string, string] => [`event ${n.eventId}`, n.note]) });
  }
  return sections;
}

/** "signature valid (key …, break-glass)" or why it is not. */
function signatureText(sig: ReportSignature): string {
  if (sig.signature === 'valid')
    return `signature valid (key ${show(sig.keyId)}${sig.breakGlass ? ', break-glass' : ''})`;
  return `signature ${sig.signature}: ${show(sig.signatureProblem)}`;
}

/** The verdict and verification checks, as titled rows (text and Markdown). */
function verdictSection(report: DecisionReport, extras: ReportExtras): Section {
  const v = extras.verification;
  return {
    title: 'Verdict',
    rows: [
      ['what happened', headline(report)],
      ['verification', v ? verificationTitle(v) : 'not verified: no store or package evidence was given'],
      ...(v?.checks ?? []).map((c): [string, string] => [
        `${MARK[c.status]} ${c.label}`,
        `${c.reason}${c.keyId ? ` (key ${c.keyId})` : ''}`,
      ]),
    ],
  };
}

function timelineSection(timeline: Timeline): Section {
  return {
    title: 'Timeline',
    rows: [
      ...timeline.spans.map((s): [string, string] => [s.start, `${s.label} (${humanDuration(s.ms)})`]),
      ...timeline.marks.map((m): [string, string] => [m.at, `${m.kind}: ${m.label}`]),
    ],
  };
}

export function formatReport(
  report: DecisionReport,
  format: Exclude<ReportFormat, 'pdf'>,
  extras: ReportExtras = {},
): string {
  const sections = [
    verdictSection(report, extras),
    ...(extras.timeline ? [timelineSection(extras.timeline)] : []),
    ...reportSections(report),
  ];
  const title = `Decision report: ${show(report.workflowId)}`;
  switch (format) {
    case 'json':
      return `${JSON.stringify(
        {
          ...report,
          ...(extras.verification ? { verification: extras.verification } : {}),
          ...(extras.timeline ? { timeline: extras.timeline } : {}),
        },
        null,
        2,
      )}\n`;
    case 'text':
      return `${title}\n${sections
        .map((s) => `\n${s.title}\n${s.rows.map(([k, v]) => `  ${k}: ${oneLine(v)}`).join('\n')}`)
        .join('\n')}\n`;
    case 'markdown':
      return `# ${md(title)}\n${sections
        .map(
          (s) =>
            `\n## ${md(s.title)}\n\n| | |\n|---|---|\n${s.rows.map(([k, v]) => `| ${md(k)} | ${md(v)} |`).join('\n')}`,
        )
        .join('\n')}\n`;
    case 'html':
      return renderReportHtml(report, extras);
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** Markdown table cells: escape the characters that would change the table or inline markup. */
function md(text: string): string {
  return oneLine(text).replace(/[\\|`*_[\]<>#]/g, (c) => `\\${c}`);
}

export function html(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
