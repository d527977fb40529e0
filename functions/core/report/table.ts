/**
 * The replay table and summary, for a terminal 80 to 160 columns wide. Pure: rows in,
 * lines out. The table streams: the layout depends only on the width, never on the rows, so
 * each row is printed as soon as its event is planned and memory does not grow with the archive.
 *
 * Cells wrap on spaces and commas (long tokens are cut); at under 130 columns the planned steps
 * move to an indented line under the row. Colours only when the caller says the output is a TTY
 * and NO_COLOR is unset.
 */
import type { Decision } from '../decision';
import type { Severity } from '../model';
import { oneLine, truncate } from './text';

export interface ReplayRow {
  /** ISO-8601 */
  time: string;
  actor: string;
  event: string;
  rules: string[];
  severity?: Severity;
  resources: string[];
  decision: Decision;
  /** Planned steps, `action resource`. */
  steps: string[];
}

export interface TableOptions {
  /** Terminal columns; clamped to 80..160. */
  width: number;
  color: boolean;
}

type Column = 'time' | 'actor' | 'event' | 'rules' | 'severity' | 'resources' | 'decision' | 'steps';

interface Layout {
  columns: { name: Column; title: string; width: number }[];
  /** Steps go on their own line under the row when the terminal is narrow. */
  stepsBelow: boolean;
  width: number;
  color: boolean;
}

const MIN_WIDTH = 80;
const MAX_WIDTH = 160;
const GAP = ' ';

/** Column widths for a terminal width. Fixed columns first, the rest shared by weight. */
export function tableLayout(options: TableOptions): Layout {
  const width = Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, Math.floor(options.width) || MIN_WIDTH));
  const stepsBelow = width < 130;
  const time = width < 100 ? 10 : 20;
  const fixed: { name: Column; title: string; width: number }[] = [
    { name: 'time', title: 'TIME', width: time },
    { name: 'severity', title: 'SEV', width: 8 },
    { name: 'decision', title: 'DECISION', width: 11 },
    // Wide enough for a whole resource id (ami-, sg- or i- and 17 hex digits).
    ...(width >= 110 ? [{ name: 'resources' as Column, title: 'RESOURCES', width: 21 }] : []),
  ];
  const flexible: { name: Column; title: string; weight: number }[] = [
    { name: 'actor', title: 'ACTOR', weight: 3 },
    { name: 'event', title: 'EVENT', weight: 4 },
    { name: 'rules', title: 'RULES', weight: 4 },
    ...(width >= 110 ? [] : [{ name: 'resources' as Column, title: 'RESOURCES', weight: 4 }]),
    ...(stepsBelow ? [] : [{ name: 'steps' as Column, title: 'PLANNED STEPS', weight: 5 }]),
  ];
  const count = fixed.length + flexible.length;
  const free = width - fixed.reduce((n, c) => n + c.width, 0) - GAP.length * (count - 1);
  const totalWeight = flexible.reduce((n, c) => n + c.weight, 0);
  const widths = flexible.map((c) => Math.floor((free * c.weight) / totalWeight));
  widths[0] += free - widths.reduce((a, b) => a + b, 0);
  const byName = new Map<Column, { name: Column; title: string; width: number }>();
  for (const c of fixed) byName.set(c.name, c);
  flexible.forEach((c, i) => byName.set(c.name, { name: c.name, title: c.title, width: widths[i] }));
  const order: Column[] = ['time', 'actor', 'event', 'rules', 'severity', 'resources', 'decision', 'steps'];
  const columns = order.map((n) => byName.get(n)).filter((c): c is { name: Column; title: string; width: number } => c !== undefined);
  return { columns, stepsBelow, width, color: options.color };
}

export function renderHeader(layout: Layout): string[] {
  const head = layout.columns.map((c) => pad(c.title, c.width)).join(GAP).trimEnd();
  return [style(head, 'bold', layout.color), '-'.repeat(layout.width)];
}

/** The lines of one row (a row wraps over several lines when its cells do). */
export function renderRow(row: ReplayRow, layout: Layout): string[] {
  // Lists (rules, resources, steps) put one item per line, so an item is never split across two.
  const cells: Record<Column, string[]> = {
    time: [row.time.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')],
    actor: [row.actor],
    event: [row.event],
    rules: row.rules.length > 0 ? row.rules : ['-'],
    severity: [row.severity ?? '-'],
    resources: row.resources.length > 0 ? row.resources : ['-'],
    decision: [row.decision],
    steps: row.steps.length > 0 ? row.steps : ['-'],
  };
  const wrapped = layout.columns.map((c) => wrapList(cells[c.name], c.width));
  const height = Math.max(...wrapped.map((w) => w.length));
  const lines: string[] = [];
  for (let i = 0; i < height; i++) {
    const parts = layout.columns.map((c, j) => {
      const text = pad(wrapped[j][i] ?? '', c.width);
      if (i === 0 && c.name === 'severity' && row.severity) return style(text, severityStyle(row.severity), layout.color);
      if (i === 0 && c.name === 'decision') return style(text, decisionStyle(row.decision), layout.color);
      return text;
    });
    lines.push(parts.join(GAP).trimEnd());
  }
  if (layout.stepsBelow && row.steps.length > 0) {
    const arrow = '    → ';
    const wrappedSteps = wrap(oneLine(row.steps.join(', ')), layout.width - arrow.length);
    wrappedSteps.forEach((line, i) => lines.push(style((i === 0 ? arrow : ' '.repeat(arrow.length)) + line, 'dim', layout.color)));
  }
  return lines;
}

export interface ReplaySummary {
  files: number;
  skippedFiles: string[];
  /** Records read (events and rejected inputs). */
  records: number;
  events: number;
  rejected: { code: string; count: number; example: string }[];
  byRule: Record<string, number>;
  byDecision: Record<string, number>;
  failedCalls: number;
  notices: string[];
}

export function renderSummary(summary: ReplaySummary, options: TableOptions): string[] {
  const width = Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, Math.floor(options.width) || MIN_WIDTH));
  const rejectedTotal = summary.rejected.reduce((n, r) => n + r.count, 0);
  const lines = [
    '',
    style('SUMMARY', 'bold', options.color),
    `  files read      ${summary.files}${summary.skippedFiles.length ? ` (${summary.skippedFiles.length} skipped)` : ''}`,
    `  records read    ${summary.records}`,
    `  events          ${summary.events}`,
    `  rejected        ${rejectedTotal}`,
  ];
  for (const r of [...summary.rejected].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))) {
    lines.push(truncate(`    ${String(r.count).padStart(6)}  ${r.code}: ${oneLine(r.example)}`, width));
  }
  lines.push(`  failed calls    ${summary.failedCalls}`);
  lines.push('  by rule');
  const rules = Object.entries(summary.byRule).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (rules.length === 0) lines.push('         -');
  for (const [rule, n] of rules) lines.push(`    ${String(n).padStart(6)}  ${rule}`);
  lines.push('  by decision');
  for (const [decision, n] of Object.entries(summary.byDecision).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`    ${String(n).padStart(6)}  ${style(decision, decisionStyle(decision as Decision), options.color)}`);
  }
  for (const notice of summary.notices) lines.push(style(`  note: ${oneLine(notice)}`, 'yellow', options.color));
  return lines;
}

/** A cell never takes more lines than this; the rest is cut with `…`. */
const MAX_CELL_LINES = 4;

function wrapList(items: string[], width: number): string[] {
  const lines = items.flatMap((item) => wrap(oneLine(item), width));
  if (lines.length <= MAX_CELL_LINES) return lines;
  const kept = lines.slice(0, MAX_CELL_LINES);
  kept[MAX_CELL_LINES - 1] = truncate(`${kept[MAX_CELL_LINES - 1]} +more`, width);
  return kept;
}

/**
 * Word-wrap on spaces. A token longer than the width is broken after a hyphen or before a
 * capital (`admin-port-` / `open-to-world`, `Authorize` / `SecurityGroupIngress`), else hard.
 * At most three lines per cell.
 */
export function wrap(text: string, width: number): string[] {
  if (width <= 0) return [''];
  if (text.length <= width) return [text];
  const pieces: string[] = [];
  for (const word of text.split(' ')) pieces.push(...breakToken(word, width));
  const lines: string[] = [];
  let line = '';
  for (const piece of pieces) {
    const joiner = line.length === 0 || line.endsWith('-') ? '' : ' ';
    if (line.length === 0) line = piece;
    else if (line.length + joiner.length + piece.length <= width) line += joiner + piece;
    else {
      lines.push(line);
      line = piece;
    }
  }
  if (line.length > 0) lines.push(line);
  if (lines.length > MAX_CELL_LINES) {
    const kept = lines.slice(0, MAX_CELL_LINES);
    kept[MAX_CELL_LINES - 1] = truncate(`${kept[MAX_CELL_LINES - 1]} ${lines[MAX_CELL_LINES]}`, width);
    return kept;
  }
  return lines;
}

function breakToken(token: string, width: number): string[] {
  const parts: string[] = [];
  let rest = token;
  while (rest.length > width) {
    let cut = -1;
    for (let i = width; i > 0; i--) {
      if (rest[i - 1] === '-' || rest[i - 1] === ',' || (/[A-Z]/.test(rest[i]) && /[a-z]/.test(rest[i - 1]))) {
        cut = i;
        break;
      }
    }
    if (cut < Math.ceil(width / 2)) cut = width;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  parts.push(rest);
  return parts;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

type Style = 'bold' | 'dim' | 'red' | 'boldred' | 'yellow' | 'green' | 'cyan' | 'none';
const ANSI: Record<Style, [string, string]> = {
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  red: ['\x1b[31m', '\x1b[39m'],
  boldred: ['\x1b[1;31m', '\x1b[22;39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  cyan: ['\x1b[36m', '\x1b[39m'],
  none: ['', ''],
};

function style(text: string, s: Style, color: boolean): string {
  if (!color || s === 'none') return text;
  return ANSI[s][0] + text + ANSI[s][1];
}

function severityStyle(severity: Severity): Style {
  return severity === 'CRITICAL' ? 'boldred' : severity === 'HIGH' ? 'red' : severity === 'MEDIUM' ? 'yellow' : 'dim';
}

function decisionStyle(decision: Decision): Style {
  switch (decision) {
    case 'contain':
    case 'replace':
      return 'red';
    case 'held':
      return 'yellow';
    case 'observe':
      return 'cyan';
    case 'no-finding':
    case 'trusted':
    case 'off':
      return 'dim';
    default:
      return 'none';
  }
}
