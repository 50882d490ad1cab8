import type { Principal } from './auth';
import type { ActionView, MissionView, QueueEntry, RecentVote, RefusalCode } from './desk';
import { displayText } from '../core/format';
import { amount, data, esc, layout, paramsList, timeLeft } from './html';

/** Server-rendered pages. Readable without JavaScript; /static/app.js adds countdowns and the live rail. */

export function loginPage(error?: string, withOidc = false): string {
  return layout({
    title: 'Sign in',
    body: `<section class="card narrow"><h1>Sign in</h1>
${error ? `<p class="banner bad" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/login" class="stack">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="off" required placeholder="mdt_… or an OIDC ID token">
<button type="submit" class="primary">Sign in</button></form>
${withOidc ? '<p><a class="button" href="/login/oidc" data-testid="oidc">Sign in with your identity provider</a></p>' : ''}
<p class="hint">Your identity comes from this token (a local token from your administrator, or a token from
your identity provider) — never from a name you type.</p></section>`,
  });
}

export interface QueueFilters {
  type?: string;
  tier?: string;
  q?: string;
  all?: boolean;
}

export function queuePage(
  principal: Principal,
  csrf: string,
  entries: QueueEntry[],
  filters: QueueFilters,
  recent: RecentVote[],
): string {
  const types = [...new Set(entries.map((e) => e.missionType))].sort();
  const tiers = [...new Set(entries.map((e) => e.tier))].sort();
  const option = (v: string, selected?: string) =>
    `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(v)}</option>`;
  const cards = entries.map(queueCard).join('\n');
  const mine = recent
    .map(
      (r) =>
        `<li><a href="/missions/${encodeURIComponent(r.missionId)}">${esc(r.missionId)}</a> ${esc(r.actionId)} ${esc(r.operation)}
<span class="pill ${r.decision === 'approve' ? 'good' : 'bad'}">${r.decision === 'approve' ? 'approved' : 'rejected'}</span>
<time datetime="${esc(r.at)}">${esc(r.at.slice(0, 19).replace('T', ' '))}</time>${r.reason ? ` — ${esc(r.reason)}` : ''}</li>`,
    )
    .join('');
  return layout({
    title: 'Decision Queue',
    principal,
    csrf,
    body: `<h1>Decision Queue</h1>
<form class="filters" method="get" action="/">
<select name="type" aria-label="Mission type"><option value="">all types</option>${types.map((t) => option(t, filters.type)).join('')}</select>
<select name="tier" aria-label="Tier"><option value="">all tiers</option>${tiers.map((t) => option(t, filters.tier)).join('')}</select>
<input name="q" type="search" placeholder="mission or operation" value="${esc(filters.q)}" aria-label="Search">
<label class="check"><input type="checkbox" name="all" value="1"${filters.all ? ' checked' : ''}> include read-only</label>
<button type="submit">Filter</button></form>
<p class="count" data-testid="queue-count">${entries.length} action${entries.length === 1 ? '' : 's'} ${filters.all ? 'pending' : 'you may decide'}, soonest deadline first</p>
<div class="queue" data-testid="queue">${cards || '<p class="empty">Nothing waits for you.</p>'}</div>
<section class="recent"><h2>My recent decisions</h2>${mine ? `<ul data-testid="recent">${mine}</ul>` : '<p class="empty">None yet.</p>'}</section>`,
  });
}

function queueCard(e: QueueEntry): string {
  const href = `/missions/${encodeURIComponent(e.missionId)}#${encodeURIComponent(e.actionId)}`;
  return `<article class="card item${e.refusal ? ' readonly' : ''}" data-mission="${esc(e.missionId)}">
<div class="row"><a class="title" href="${href}">${esc(e.operation)} <strong>${esc(amount(e.params))}</strong></a>
<span class="pill tier">${esc(e.tier)}</span></div>
<div class="row meta"><span>${esc(e.missionType)}</span><span class="mono">${esc(e.missionId)} · ${esc(e.actionId)}</span></div>
<div class="row meta"><span>initiated by ${esc(e.initiator)}</span>
<span class="deadline" data-deadline="${esc(e.deadline)}">${esc(timeLeft(e.deadline))}</span></div>
${e.refusal ? `<p class="note">Read-only: ${esc(e.refusal.message)}</p>` : ''}</article>`;
}

export function missionPage(principal: Principal, csrf: string, view: MissionView): string {
  const { state, observations, summary } = view.detail;
  const actions = view.actions.map((a) => actionCard(a)).join('\n');
  const decide = view.actions.map((a) => decideCard(a, state.missionId, csrf)).join('\n');
  const firstProposal = observations.find((o) => o.kind === 'proposal')?.seq ?? Infinity;
  const reads = observations.filter((o) => o.kind === 'read' && o.seq < firstProposal);
  const decided = view.settled
    .map(
      (d) =>
        `<li data-testid="decided-${esc(d.actionId)}">${esc(d.actionId)}: ${
          d.expired
            ? '<span class="pill bad">expired</span> no decision before the deadline — rejected (fail closed)'
            : `<span class="pill ${d.decision === 'approve' ? 'good' : 'bad'}">${d.decision === 'approve' ? 'approved' : 'rejected'}</span> by ${esc(d.approver)}`
        }${d.reason && !d.expired ? ` — ${esc(d.reason)}` : ''} <time datetime="${esc(d.at)}">${esc(d.at.slice(0, 19).replace('T', ' '))}</time></li>`,
    )
    .join('');
  return layout({
    title: state.missionId,
    principal,
    csrf,
    body: `<p><a href="/">← Decision Queue</a></p>
<h1 class="mono">${esc(state.missionId)}</h1>
<p class="meta">${esc(state.missionType)} · initiated by ${esc(state.initiator)} · status
<span class="pill" data-testid="status" id="status">${esc(state.status)}</span> · started ${esc(summary.startTime.slice(0, 19).replace('T', ' '))}</p>
${state.summary ? verdictBanner(state) : ''}
<div class="detail">
<div class="col">
${actions}
${reads.length ? evidenceCard(reads, view.integration) : ''}
</div>
<div class="col">
${decide}
${decided ? `<section class="card decided"><h2>Decisions</h2><ul>${decided}</ul></section>` : ''}
<section class="card explain"><h2>Explain rail</h2>
<ol class="rail" id="rail" data-mission="${esc(state.missionId)}" data-seq="${observations.at(-1)?.seq ?? 0}">
${observations.map(railItem).join('\n')}</ol></section>
</div>
</div>`,
  });
}

/**
 * One rail line: the system's summary, then what the model wrote in its own labelled, escaped field
 * (styled apart), so model text can never pass for a system line.
 */
export function railItem(o: { seq: number; at: string; kind: string; summary: string; modelText?: string }): string {
  return `<li class="k-${esc(o.kind)}"><time datetime="${esc(o.at)}">${esc(o.at.slice(11, 19))}</time>
<span class="kind">${esc(o.kind)}</span> <span class="sum">${esc(displayText(o.summary, 600))}</span>${o.modelText ? modelText(o.modelText) : ''}</li>`;
}

function modelText(text: string): string {
  return ` <span class="model" data-testid="model-text"><span class="said">model said</span> <span class="text">${esc(displayText(text, 600))}</span></span>`;
}

/** The verdict is the system's; a summary the model wrote is shown as its (possibly unverified) claim. */
function verdictBanner(state: MissionView['detail']['state']): string {
  if (state.summaryBy !== 'model') return `<p class="banner">${esc(state.verdict)}: ${esc(state.summary)}</p>`;
  const claim = state.claim && !state.claim.verified ? ` (claimed "${esc(state.claim.verdict)}": unverified)` : '';
  return `<p class="banner">${esc(state.verdict)}${claim}:${modelText(state.summary ?? '')}</p>`;
}

/** The proposed action as an approver weighs it: money first, the policy's words, the agent's claim; raw params one click away. */
function actionCard(a: ActionView): string {
  const money = amount(a.params);
  const reasons = a.reasons.length
    ? `<ul class="reasons" data-testid="policy-reasons">${a.reasons.map((r) => `<li>${data(r)}</li>`).join('')}</ul>`
    : '<p class="hint">The policy gave no reason in words.</p>';
  return `<section class="card action" id="${esc(a.actionId)}"><h2>Proposed action ${esc(a.actionId)}: <span class="mono">${esc(a.operation)}</span></h2>
${money ? `<p class="money" data-testid="amount">${esc(money)}</p>` : ''}
${paramsList(summaryParams(a.params), 'params summary')}
<h3>Why policy asks for approval</h3>
<p>require approval · tier <strong>${esc(a.tier)}</strong></p>${reasons}
${a.rationale ? `<h3>The agent's rationale <span class="hint">(its claim, from the model)</span></h3><blockquote class="data">${data(a.rationale)}</blockquote>` : ''}
<details class="raw" data-testid="raw"><summary>Raw params and binding</summary>${paramsList(a.params)}
<p class="meta">params hash <code>${esc(a.paramsHash)}</code> · rules ${a.ruleIds.map((r) => `<code>${esc(r)}</code>`).join(' ') || '—'} · policy version <code>${esc(a.policyVersion ?? 'unknown')}</code></p></details>
</section>`;
}

/** The params a person reads in words: money replaces minor units, the rest as given. */
function summaryParams(params: Record<string, unknown>): Record<string, unknown> {
  const money = amount(params);
  const rest = Object.entries(params).filter(([k]) => !(money && (k === 'amountCents' || k === 'currency')));
  return Object.fromEntries(money ? [['amount', money], ...rest] : rest);
}

/** What the agent read before proposing: the integration's answers, as data, labelled with their source. */
function evidenceCard(reads: MissionView['detail']['observations'], integration?: string): string {
  const items = reads
    .map((o) => {
      const operation = typeof o.detail?.operation === 'string' ? o.detail.operation : o.summary;
      const result = o.detail?.result;
      const body =
        result === undefined
          ? '<p class="hint">Result not kept on the rail (a mission started before evidence was recorded).</p>'
          : result !== null && typeof result === 'object' && !Array.isArray(result)
            ? paramsList(result as Record<string, unknown>, 'params evidence-data')
            : `<p class="data">${data(result)}</p>`;
      return `<li><h3><span class="mono">${data(operation, 80)}</span> <span class="hint">${data(o.detail?.params ?? '', 200)}</span></h3>${body}</li>`;
    })
    .join('');
  return `<section class="card evidence" data-testid="evidence"><h2>What the agent read</h2>
<p class="source">Data from the integration <strong>${esc(integration ?? 'unknown')}</strong>, as it answered the agent — shown as data, not checked by Mandate.</p>
<ul class="evidence-list">${items}</ul></section>`;
}

/** The ladder step and the vote: the form, or why this person may not vote. */
function decideCard(a: ActionView, missionId: string, csrf: string): string {
  const votes = a.votes.length
    ? `<ul>${a.votes
        .map(
          (v) =>
            `<li>${esc(v.approver)}: ${esc(v.decision)}${v.breakGlass ? ' <span class="pill bad" title="signed with an operator\'s break-glass key">break-glass</span>' : ''}</li>`,
        )
        .join('')}</ul>`
    : '<p class="hint">No votes yet.</p>';
  const step = a.step !== undefined && a.steps ? `step ${a.step + 1} of ${a.steps}` : 'single step';
  const form = a.refusal
    ? `<p class="banner ${a.refusal.code === 'expired' ? 'bad' : 'warn'}" data-testid="readonly">${a.refusal.code === 'expired' ? 'Expired' : 'Read-only'}: ${esc(a.refusal.message)}</p>`
    : decideForm(a, missionId, csrf);
  return `<section class="card decide-card"><h2>Decide ${esc(a.actionId)}</h2>
<p>${esc(step)} · roles ${esc(a.roles.join(', '))} · quorum ${a.quorum}</p>
<p class="meta">deadline <span class="deadline" data-deadline="${esc(a.deadline)}">${esc(timeLeft(a.deadline))}</span></p>${votes}${form}</section>`;
}

function decideForm(a: ActionView, missionId: string, csrf: string): string {
  const action = `/missions/${encodeURIComponent(missionId)}/actions/${encodeURIComponent(a.actionId)}/decision`;
  const money = amount(a.params);
  const what = `${a.operation} ${JSON.stringify(a.params)}`;
  return `<form method="post" action="${esc(action)}" class="decide stack" data-testid="decide">
<input type="hidden" name="_csrf" value="${esc(csrf)}">
<input type="hidden" name="paramsHash" value="${esc(a.paramsHash)}">
<label class="check confirm"><input type="checkbox" name="confirm" value="${esc(a.paramsHash)}" required>
<span>I have checked and confirm ${money ? `<strong>${esc(money)}</strong>: ` : ''}<code>${data(what, 2000)}</code></span></label>
<label for="reason-${esc(a.actionId)}">Reason <span class="hint">(required to reject)</span></label>
<textarea id="reason-${esc(a.actionId)}" name="reason" rows="2" maxlength="2000"></textarea>
<div class="buttons"><button type="submit" name="decision" value="approve" class="primary">Approve</button>
<button type="submit" name="decision" value="reject" class="danger" formnovalidate>Reject</button></div></form>`;
}

const OUTCOME_TITLES: Partial<Record<RefusalCode, string>> = {
  already_decided: 'Already decided',
  expired: 'Expired',
  not_your_tier: 'Not your tier',
  initiator: 'You initiated this mission',
  csrf: 'Form expired',
  stale: 'The action changed',
  reason_required: 'A reason is required',
  mission_closed: 'Mission closed',
  not_found: 'Not found',
  rate_limited: 'Too many attempts',
  binding_required: 'Confirm what you approve',
  no_read_access: 'Not yours to read',
};

export function outcomePage(
  principal: Principal | undefined,
  csrf: string | undefined,
  missionId: string,
  outcome:
    | {
        ok: true;
        decision: 'approve' | 'reject';
        actionId: string;
        at: string;
        outcome?: string;
        approvals?: number;
        quorum?: number;
      }
    | { ok: false; code: RefusalCode; message: string },
): string {
  const back = `<p><a href="/missions/${encodeURIComponent(missionId)}">Back to the mission</a> · <a href="/">Decision Queue</a></p>`;
  const body = outcome.ok
    ? `<section class="card"><p class="banner good" role="status" data-testid="outcome">${outcome.decision === 'approve' ? 'Approved' : 'Rejected'}: ${esc(outcome.actionId)} of ${esc(missionId)}, recorded ${esc(outcome.at)} and signed by this service.${outcome.outcome === 'pending' ? ` Your vote counts: ${outcome.approvals} of ${outcome.quorum} approvals, waiting for more.` : ''}</p>${back}</section>`
    : `<section class="card"><h1>${esc(OUTCOME_TITLES[outcome.code] ?? 'Refused')}</h1><p class="banner bad" role="alert" data-testid="outcome" data-code="${esc(outcome.code)}">Refused (${esc(outcome.code)}): ${esc(outcome.message)}</p>${back}</section>`;
  return layout({ title: outcome.ok ? 'Decision recorded' : 'Decision refused', principal, csrf, body });
}

export function errorPage(principal: Principal | undefined, status: number, message: string): string {
  return layout({
    title: `Error ${status}`,
    principal,
    body: `<section class="card"><h1>Error ${status}</h1><p>${esc(message)}</p><p><a href="/">Decision Queue</a></p></section>`,
  });
}
