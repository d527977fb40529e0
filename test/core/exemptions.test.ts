import { found, notFound, unknown } from '../../functions/core/context';
import { evaluateExemption, parseIsoTime } from '../../functions/core/exemptions';
import { NOW, policyWith } from './fixtures/builders';

const policy = policyWith({
  trust: { pipelinePrincipals: ['arn:aws:iam::111122223333:role/pipeline-deploy'] },
  exemptions: { setters: ['arn:aws:iam::111122223333:role/break-glass-*'], maxDurationDays: 7 },
});
const BREAK_GLASS = found({ arn: 'arn:aws:iam::111122223333:role/break-glass-oncall', time: '2026-03-10T09:00:00Z' });
const exemptUntil = (value: string, reason?: string): Record<string, string> => ({
  'driftwarden:exempt-until': value,
  ...(reason ? { 'driftwarden:exempt-reason': reason } : {}),
});

describe('evaluateExemption', () => {
  it('is none when the resource carries no exemption tag', () => {
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: { Name: 'web' }, policy, now: NOW })).toEqual({ status: 'none' });
  });

  it('honours a future exemption set by an allowed setter, with its reason', () => {
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-11T08:00:00Z', 'INC-42 disk repair'), writer: BREAK_GLASS, policy, now: NOW })).toEqual({
      status: 'valid',
      until: '2026-03-11T08:00:00.000Z',
      reason: 'INC-42 disk repair',
      setBy: 'arn:aws:iam::111122223333:role/break-glass-oncall',
    });
  });

  it('lets pipeline principals set exemptions too', () => {
    const writer = found({ arn: 'arn:aws:iam::111122223333:role/pipeline-deploy', time: NOW });
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-11T00:00:00Z'), writer, policy, now: NOW })).toMatchObject({ status: 'valid', reason: '(no reason given)' });
  });

  it('ignores an expired exemption, with a warning', () => {
    const verdict = evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-10T11:59:59Z'), writer: BREAK_GLASS, policy, now: NOW });
    expect(verdict).toEqual({ status: 'expired', warning: 'Ignored exemption on i-0aaa: it expired at 2026-03-10T11:59:59.000Z.' });
  });

  it('is exclusive at its end: at exactly `until` the exemption no longer holds, a millisecond before it does', () => {
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil(NOW), writer: BREAK_GLASS, policy, now: NOW }).status).toBe('expired');
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-10T12:00:00.001Z'), writer: BREAK_GLASS, policy, now: NOW }).status).toBe('valid');
  });

  it('reads a time with no zone as UTC', () => {
    // 12:30 with no zone is 12:30Z: still ahead of 12:00Z. Read as local UTC-x it would differ.
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-10T12:30'), writer: BREAK_GLASS, policy, now: NOW })).toMatchObject({
      status: 'valid',
      until: '2026-03-10T12:30:00.000Z',
    });
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-10T11:30:00'), writer: BREAK_GLASS, policy, now: NOW }).status).toBe('expired');
    // With a zone, the zone counts: 13:30+02:00 is 11:30Z, already past.
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-10T13:30:00+02:00'), writer: BREAK_GLASS, policy, now: NOW }).status).toBe('expired');
  });

  it.each(['tomorrow', '2026-02-30T00:00:00Z', '2026-13-01', '10/03/2026', '', '2026-03-11T25:00:00Z'])('ignores a malformed value %p, with a warning', (value) => {
    const verdict = evaluateExemption({ resourceId: 'sg-0abc', tags: exemptUntil(value), writer: BREAK_GLASS, policy, now: NOW });
    expect(verdict).toEqual({
      status: 'malformed',
      warning: `Ignored exemption on sg-0abc: driftwarden:exempt-until="${value}" is not an ISO-8601 time (e.g. 2026-06-01T18:00:00Z).`,
    });
  });

  it('ignores an exemption set by a principal who is not an allowed setter', () => {
    const writer = found({ arn: 'arn:aws:iam::111122223333:user/mallory', time: NOW });
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-11T00:00:00Z'), writer, policy, now: NOW })).toEqual({
      status: 'unauthorized-setter',
      warning:
        'Ignored exemption on i-0aaa: driftwarden:exempt-until was set by arn:aws:iam::111122223333:user/mallory, who is not an allowed setter (exemptions.setters or trust.pipelinePrincipals).',
    });
  });

  it('ignores an exemption with no record of who set it', () => {
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-11T00:00:00Z'), writer: notFound(), policy, now: NOW }).status).toBe('unauthorized-setter');
  });

  it('is unverifiable (fail closed) when who set it cannot be read, or was not looked up', () => {
    const verdict = evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-11T00:00:00Z'), writer: unknown('ThrottlingException: Rate exceeded'), policy, now: NOW });
    expect(verdict).toEqual({
      status: 'unverifiable',
      warning:
        'Exemption on i-0aaa cannot be verified: who set driftwarden:exempt-until could not be read (ThrottlingException: Rate exceeded). driftwarden does not act destructively on it until it can tell.',
    });
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2026-03-11T00:00:00Z'), policy, now: NOW }).status).toBe('unverifiable');
  });

  it('caps an exemption to maxDurationDays from when it was set, with a warning', () => {
    const verdict = evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2027-01-01T00:00:00Z'), writer: BREAK_GLASS, policy, now: NOW });
    expect(verdict).toMatchObject({ status: 'valid', until: '2026-03-17T09:00:00.000Z' });
    expect((verdict as { warning?: string }).warning).toContain('capped to 2026-03-17T09:00:00.000Z');
  });

  it('an old far-future exemption cannot stay valid forever: once the cap from when it was set passes, it has expired', () => {
    const writer = found({ arn: 'arn:aws:iam::111122223333:role/break-glass-oncall', time: '2026-01-01T00:00:00Z' });
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: exemptUntil('2030-01-01T00:00:00Z'), writer, policy, now: NOW }).status).toBe('expired');
  });

  it('uses the policy tag names', () => {
    const custom = policyWith({ exemptions: { tag: 'breakglass', reasonTag: 'why', setters: ['arn:aws:iam::*:role/break-glass-*'] } });
    expect(evaluateExemption({ resourceId: 'i-0aaa', tags: { breakglass: '2026-03-11', why: 'DR test' }, writer: BREAK_GLASS, policy: custom, now: NOW })).toMatchObject({
      status: 'valid',
      reason: 'DR test',
    });
  });
});

describe('parseIsoTime', () => {
  it('reads dates, date-times, fractions and offsets; no zone is UTC', () => {
    expect(parseIsoTime('2026-03-10')).toBe(Date.UTC(2026, 2, 10));
    expect(parseIsoTime('2026-03-10T12:00')).toBe(Date.UTC(2026, 2, 10, 12));
    expect(parseIsoTime('2026-03-10T12:00:00.250Z')).toBe(Date.UTC(2026, 2, 10, 12, 0, 0, 250));
    expect(parseIsoTime('2026-03-10T12:00:00-05:30')).toBe(Date.UTC(2026, 2, 10, 17, 30));
    expect(parseIsoTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoTime('2026-02-29')).toBeUndefined();
  });
});
