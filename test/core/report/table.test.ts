import fc from 'fast-check';
import { renderHeader, renderRow, renderSummary, tableLayout, wrap } from '../../../functions/core/report/table';
import type { ReplayRow, ReplaySummary } from '../../../functions/core/report/table';

const row: ReplayRow = {
  time: '2026-11-26T03:04:05Z',
  actor: 'alice',
  event: 'AuthorizeSecurityGroupIngress',
  rules: ['admin-port-open-to-world', 'security-group-manual-change'],
  severity: 'HIGH',
  resources: ['sg-0abc1234abcd12345'],
  decision: 'contain',
  steps: ['revoke-rule sg-0abc1234abcd12345', 'notify sg-0abc1234abcd12345'],
};

describe('replay table', () => {
  it('fits every line in the terminal width, from 80 to 160 columns, whatever the cells hold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 80, max: 160 }),
        fc.string({ maxLength: 120 }),
        fc.array(fc.string({ maxLength: 60 }), { maxLength: 6 }),
        (width, actor, resources) => {
          const layout = tableLayout({ width, color: false });
          const lines = [...renderHeader(layout), ...renderRow({ ...row, actor, resources }, layout)];
          for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
        },
      ),
    );
  });

  it('shows whole resource ids and puts planned steps in their own column on a wide terminal', () => {
    const layout = tableLayout({ width: 140, color: false });
    expect(renderHeader(layout)[0]).toMatch(/PLANNED STEPS$/);
    const lines = renderRow(row, layout);
    expect(lines[0]).toContain('sg-0abc1234abcd12345');
    expect(lines[0]).toContain('contain');
    expect(lines.join('\n')).toContain('revoke-rule');
  });

  it('moves planned steps under the row on a narrow terminal', () => {
    const layout = tableLayout({ width: 80, color: false });
    expect(renderHeader(layout)[0]).not.toContain('PLANNED STEPS');
    const lines = renderRow(row, layout);
    expect(lines[lines.length - 1]).toBe('    → revoke-rule sg-0abc1234abcd12345, notify sg-0abc1234abcd12345');
  });

  it('breaks long names at hyphens and capitals rather than cutting them', () => {
    expect(wrap('admin-port-open-to-world', 12)).toEqual(['admin-port-', 'open-to-', 'world']);
    expect(wrap('AuthorizeSecurityGroupIngress', 18)).toEqual(['AuthorizeSecurity', 'GroupIngress']);
  });

  it('colours severity and decision only when asked', () => {
    const plain = renderRow(row, tableLayout({ width: 120, color: false })).join('\n');
    const coloured = renderRow(row, tableLayout({ width: 120, color: true })).join('\n');
    expect(plain).not.toContain('\x1b[');
    expect(coloured).toContain('\x1b[31mHIGH');
  });
});

describe('replay summary', () => {
  const summary: ReplaySummary = {
    files: 3,
    skippedFiles: ['notes.txt'],
    records: 10,
    events: 7,
    rejected: [
      { code: 'missing-field', count: 1, example: 'no eventName (a.json#2)' },
      { code: 'not-json', count: 2, example: 'not JSON (b.jsonl:4)' },
    ],
    byRule: { 'admin-port-open-to-world': 2, 'shell-access': 5 },
    byDecision: { contain: 2, held: 5 },
    failedCalls: 1,
    notices: ['no account snapshot: context unknown'],
  };

  it('counts events, rejections grouped by reason (most first), rules, decisions and failed calls', () => {
    const text = renderSummary(summary, { width: 100, color: false }).join('\n');
    expect(text).toMatch(/files read\s+3 \(1 skipped\)/);
    expect(text).toMatch(/records read\s+10/);
    expect(text).toMatch(/rejected\s+3/);
    expect(text.indexOf('not-json')).toBeLessThan(text.indexOf('missing-field'));
    expect(text).toMatch(/2\s+not-json: not JSON \(b\.jsonl:4\)/);
    expect(text).toMatch(/failed calls\s+1/);
    expect(text.indexOf('shell-access')).toBeLessThan(text.indexOf('admin-port-open-to-world'));
    expect(text).toMatch(/5\s+held/);
    expect(text).toContain('note: no account snapshot: context unknown');
  });
});
