import type { SpanKind, Timeline } from './timeline';
import { humanDuration } from './timeline';

/**
 * The timeline as an inline SVG (no script, no external font): one row per step, a bar on a time
 * axis from the mission's start to its close, the duration beside it, and marks for escalations,
 * votes and the close. Steps of milliseconds next to an approval wait of hours would vanish on a
 * linear axis, so every bar is at least a few pixels wide and its duration is always written out.
 */
const COLORS: Record<SpanKind, string> = {
  load: '#8c959f',
  reasoning: '#8250df',
  read: '#0969da',
  decision: '#bc4c00',
  approval: '#bf8700',
  grant: '#1a7f37',
  execution: '#cf222e',
  other: '#6e7781',
};
const MARK_COLORS = { escalation: '#bf8700', vote: '#0969da', close: '#1f2328' } as const;

const WIDTH = 960;
const LABEL = 330;
const RIGHT = 90;
const ROW = 20;
const TOP = 28;

export function timelineSvg(timeline: Timeline): string {
  const start = Date.parse(timeline.start ?? timeline.spans[0]?.start ?? '');
  const end = Math.max(
    Date.parse(timeline.end ?? ''),
    ...timeline.spans.map((s) => Date.parse(s.end)),
    ...timeline.marks.map((m) => Date.parse(m.at)),
  );
  if (!Number.isFinite(start) || !Number.isFinite(end)) return '<p>No timeline: the history has no timestamps.</p>';
  const total = Math.max(end - start, 1);
  const plot = WIDTH - LABEL - RIGHT;
  const x = (iso: string) => LABEL + ((Date.parse(iso) - start) / total) * plot;
  const rows = timeline.spans.length;
  const markRow = TOP + rows * ROW + 8;
  const height = markRow + 18 + timeline.marks.length * 16 + 8;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Mission timeline" font-family="system-ui, sans-serif" font-size="12">`,
    `<text x="${LABEL}" y="14" fill="#59636e">0</text>`,
    `<text x="${LABEL + plot}" y="14" fill="#59636e" text-anchor="end">${esc(humanDuration(total))}</text>`,
    `<line x1="${LABEL}" y1="${TOP - 6}" x2="${LABEL + plot}" y2="${TOP - 6}" stroke="#d1d9e0"/>`,
  ];
  timeline.spans.forEach((span, i) => {
    const y = TOP + i * ROW;
    const x0 = x(span.start);
    const w = Math.max(3, x(span.end) - x0);
    out.push(
      `<text x="${LABEL - 8}" y="${y + 13}" text-anchor="end" fill="#1f2328">${esc(clip(span.label, 52))}</text>`,
      `<rect x="${x0.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" rx="3" fill="${COLORS[span.kind]}"${span.failed ? ' fill-opacity="0.45" stroke="#cf222e"' : ''}><title>${esc(span.label)}: ${esc(humanDuration(span.ms))}</title></rect>`,
      `<text x="${Math.min(x0 + w + 4, LABEL + plot + 4).toFixed(1)}" y="${y + 13}" fill="#59636e">${esc(humanDuration(span.ms))}</text>`,
    );
  });
  out.push(`<line x1="${LABEL}" y1="${markRow}" x2="${LABEL + plot}" y2="${markRow}" stroke="#d1d9e0"/>`);
  timeline.marks.forEach((mark, i) => {
    const mx = x(mark.at).toFixed(1);
    const ly = markRow + 18 + i * 16;
    const color = MARK_COLORS[mark.kind];
    out.push(
      `<line x1="${mx}" y1="${TOP - 6}" x2="${mx}" y2="${markRow}" stroke="${color}" stroke-dasharray="3 3" stroke-opacity="0.6"/>`,
      `<circle cx="${mx}" cy="${markRow}" r="4" fill="${color}"/>`,
      `<text x="${LABEL - 8}" y="${ly}" text-anchor="end" fill="${color}">${esc(mark.kind)}</text>`,
      `<text x="${LABEL}" y="${ly}" fill="#1f2328">${esc(clip(mark.label, 90))} <tspan fill="#59636e">+${esc(humanDuration(Date.parse(mark.at) - start))}</tspan></text>`,
    );
  });
  out.push('</svg>');
  return out.join('');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function esc(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
