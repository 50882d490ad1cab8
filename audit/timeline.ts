import { MISSION_ACTIVITIES } from '../contract/names';
import type { HistoryJson } from './history';
import { attributesOf, firstPayload, shortType } from './history';
import type { DecisionReport } from './report';

/**
 * A mission's timeline, from its history: one span per step (load, reasoning, read, decision,
 * approval wait, grant, execution), with its duration, and marks for what happened in between
 * (escalations, votes, the close). Spans come from activity events keyed by the contract's activity
 * names; the approval wait runs from the decision that asked for approval to the vote or timeout that
 * settled it (from the report). So "it waited 3 h 40 min for a supervisor, escalated once" is drawn.
 */
export type SpanKind = 'load' | 'reasoning' | 'read' | 'decision' | 'approval' | 'grant' | 'execution' | 'other';

export interface TimelineSpan {
  kind: SpanKind;
  label: string;
  start: string;
  end: string;
  ms: number;
  failed?: boolean;
}

export interface TimelineMark {
  kind: 'escalation' | 'vote' | 'close';
  label: string;
  at: string;
}

export interface Timeline {
  start?: string;
  end?: string;
  spans: TimelineSpan[];
  marks: TimelineMark[];
}

const KIND: Record<string, SpanKind> = {
  [MISSION_ACTIVITIES.loadMission]: 'load',
  [MISSION_ACTIVITIES.reason]: 'reasoning',
  [MISSION_ACTIVITIES.readData]: 'read',
  [MISSION_ACTIVITIES.decideAction]: 'decision',
  [MISSION_ACTIVITIES.mintGrant]: 'grant',
  [MISSION_ACTIVITIES.executeAction]: 'execution',
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

export function buildTimeline(history: HistoryJson, report: DecisionReport): Timeline {
  const spans: TimelineSpan[] = [];
  const marks: TimelineMark[] = [];
  const scheduled = new Map<string, { type: string; input: Obj; at: string }>();
  let reasoning = 0;
  for (const event of history.events) {
    const type = shortType(event);
    const attrs = attributesOf(event);
    const at = event.eventTime ?? '';
    if (type === 'ACTIVITY_TASK_SCHEDULED') {
      const name = String(obj(attrs.activityType).name ?? '');
      const decoded = firstPayload(attrs.input);
      const input = decoded.ok ? obj(decoded.value) : {};
      scheduled.set(String(event.eventId), { type: name, input, at });
      if (name === MISSION_ACTIVITIES.notifyApprovers && input.escalated === true) {
        const pending = obj(input.pending);
        const roles = Array.isArray(pending.roles) ? pending.roles.join(', ') : '';
        marks.push({
          kind: 'escalation',
          label: `${String(pending.actionId ?? '')} escalated to step ${Number(pending.step ?? 0) + 1}${roles ? ` (${roles})` : ''}`,
          at,
        });
      }
    } else if (/^ACTIVITY_TASK_(COMPLETED|FAILED|TIMED_OUT)$/.test(type)) {
      const origin = scheduled.get(String(attrs.scheduledEventId));
      if (!origin || origin.type === MISSION_ACTIVITIES.notifyApprovers) continue;
      const kind = KIND[origin.type] ?? 'other';
      if (kind === 'reasoning') reasoning++;
      spans.push({
        kind,
        label: spanLabel(kind, origin.type, origin.input, reasoning),
        start: origin.at,
        end: at,
        ms: Date.parse(at) - Date.parse(origin.at),
        ...(type === 'ACTIVITY_TASK_COMPLETED' ? {} : { failed: true }),
      });
    }
  }

  // Approval waits: from the decision asking for approval to what settled it (or the close).
  const { decision, approvals, outcome } = report.layers;
  for (const d of decision.filter((x) => x.outcome === 'require_approval' && x.decidedAt)) {
    const settling = approvals.find(
      (a) => a.actionId === d.actionId && (a.result === 'accepted' || a.result === 'timed out'),
    );
    const end = settling?.at ?? outcome.at ?? d.decidedAt!;
    const escalations = marks.filter((m) => m.kind === 'escalation' && m.label.startsWith(`${d.actionId} `)).length;
    const who = settling
      ? settling.result === 'timed out'
        ? 'no one decided (timed out)'
        : `${settling.approver} ${settling.decision === 'approve' ? 'approved' : 'rejected'}`
      : 'still waiting at the close';
    const ms = Date.parse(end) - Date.parse(d.decidedAt!);
    spans.push({
      kind: 'approval',
      label: `${d.actionId} waited ${humanDuration(ms)} for ${d.tier ?? 'approval'}${escalations ? `, escalated ${escalations === 1 ? 'once' : `${escalations} times`}` : ''}; ${who}`,
      start: d.decidedAt!,
      end,
      ms,
    });
  }
  for (const a of approvals.filter((x) => x.via !== 'timeout' && x.at)) {
    marks.push({
      kind: 'vote',
      label: `${a.approver ?? '?'} ${a.decision ?? '?'} ${a.actionId ?? ''} (${a.result})`,
      at: a.at!,
    });
  }
  if (outcome.at) marks.push({ kind: 'close', label: `closed: ${outcome.verdict ?? outcome.status}`, at: outcome.at });
  spans.sort((a, b) => a.start.localeCompare(b.start));
  marks.sort((a, b) => a.at.localeCompare(b.at));
  return { start: report.startedAt, end: report.closedAt ?? outcome.at, spans, marks };
}

function spanLabel(kind: SpanKind, type: string, input: Obj, reasoning: number): string {
  const action = obj(input.action);
  switch (kind) {
    case 'load':
      return 'load the mission definition and policy';
    case 'reasoning':
      return `reasoning step ${reasoning}`;
    case 'read':
      return `read ${String(input.operation ?? '')}`;
    case 'decision':
      return `${String(action.actionId ?? '')} policy decision on ${String(action.operation ?? '')}`;
    case 'grant':
      return `${String(action.actionId ?? '')} grant signed`;
    case 'execution':
      return `${String(action.actionId ?? '')} executed ${String(action.operation ?? '')}`;
    default:
      return type;
  }
}

/** A human duration with a decimal second below a minute ("0.4 s", "3 h 40 min"). */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(ms < 100 ? 2 : 1)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
