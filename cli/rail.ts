import type { MissionStateView, Observation } from '../contract/mission';
import { displayText } from '../core/format';
import { table } from './output';

/**
 * The Explain rail and the verdict as the CLI prints them. System lines and model text never share a
 * voice: the model's words follow the system's line, labelled and quoted, on the same line (newlines,
 * control characters and bidirectional overrides escaped), so no model text can pass for a system line.
 */
export function railTable(observations: Observation[]): string {
  return table(observations, [
    { header: '#', value: (o) => o.seq },
    { header: 'at', value: (o) => o.at.slice(11, 23) },
    { header: 'kind', value: (o) => o.kind },
    { header: 'summary', value: railLine },
  ]);
}

/** One observation's line: the system's summary, then what the model said, labelled as the model's. */
export function railLine(o: Pick<Observation, 'summary' | 'modelText'>): string {
  const said = o.modelText ? `  [model said] "${displayText(o.modelText, 600)}"` : '';
  return `${displayText(o.summary, 600)}${said}`;
}

/** The verdict (the system's) and the summary, labelled as the model's claim when the model wrote it. */
export function verdictLine(state: Pick<MissionStateView, 'verdict' | 'summary' | 'summaryBy' | 'claim'>): string {
  const summary = displayText(state.summary ?? '', 600);
  if (state.summaryBy !== 'model') return `verdict: ${state.verdict} — ${summary}`;
  const claim = state.claim && !state.claim.verified ? ` (claimed "${state.claim.verdict}": unverified)` : '';
  return `verdict: ${state.verdict}${claim} — [model said] "${summary}"`;
}
