/**
 * What normalize does faster for a replay of a million records must read the same as before:
 * the raw record is an ordinary property of the event (redacted on first read, one accessor
 * shared by every event), actor names come from ARNs as splitting them did, and fields read
 * only for some records (errorMessage, userName) are still read for those.
 */
import fc from 'fast-check';
import { normalize } from '../../../functions/core/normalize';
import type { ChangeEvent } from '../../../functions/core/model';
import { accepted, record } from './fixtures';

const eventOf = (input: unknown): ChangeEvent => accepted(normalize(input));

describe('the raw record of a CloudTrail event', () => {
  const input = () =>
    record('ec2.amazonaws.com', 'DescribeInstances', {}, {
      responseElements: { credentials: { accessKeyId: 'ASIAEXAMPLE000000009', sessionToken: 'IQoJsecret' } },
    });

  it('is an own, enumerable, writable property, as in an object literal, and the record it came from is not', () => {
    const event = eventOf(input());
    expect(Object.keys(event)).toContain('raw');
    expect(Object.keys(event).indexOf('raw')).toBe(Object.keys(event).indexOf('change') + 1);
    expect(Reflect.ownKeys(event).filter((k) => typeof k === 'symbol').every((k) => !Object.getOwnPropertyDescriptor(event, k)!.enumerable)).toBe(true);
    const copy = { ...event };
    expect(Object.getOwnPropertyDescriptor(copy, 'raw')).toMatchObject({ enumerable: true, writable: true });
    expect(JSON.stringify(copy)).toBe(JSON.stringify(event));
    expect(JSON.parse(JSON.stringify(event)).raw.eventName).toBe('DescribeInstances');
  });

  it('is redacted once, on first read, and the same object on every read after', () => {
    const r = input();
    const event = eventOf(r);
    const first = event.raw as { responseElements: { credentials: Record<string, string> } };
    expect(first.responseElements.credentials).toEqual({ accessKeyId: '[redacted by driftwarden]', sessionToken: '[redacted by driftwarden]' });
    expect(event.raw).toBe(first);
    expect(Object.getOwnPropertyDescriptor(event, 'raw')).toMatchObject({ enumerable: true, writable: true, value: first });
    // the input is untouched
    expect((r['responseElements'] as { credentials: Record<string, string> }).credentials.sessionToken).toBe('IQoJsecret');
  });

  it('can be replaced before or after it is read, and each event keeps its own record', () => {
    const a = eventOf(record('ec2.amazonaws.com', 'DescribeInstances', {}, { eventID: 'a' }));
    const b = eventOf(record('ec2.amazonaws.com', 'DescribeInstances', {}, { eventID: 'b' }));
    a.raw = { replaced: true };
    expect(a.raw).toEqual({ replaced: true });
    expect((b.raw as { eventID: string }).eventID).toBe('b');
    b.raw = 'later';
    expect(b.raw).toBe('later');
    expect(Object.keys(b).filter((k) => k === 'raw')).toHaveLength(1);
  });
});

/** The name part of an ARN as it was found: split on colons, then on slashes. */
function nameBySplitting(arn: string): string | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const resource = parts.slice(5).join(':');
  if (resource.startsWith('assumed-role/')) return resource.slice('assumed-role/'.length) || undefined;
  const last = resource.split('/').pop();
  return last !== undefined && last.length > 0 ? last : undefined;
}

describe('actor names from ARNs', () => {
  it('are what splitting the ARN gives, for any ARN-like text', () => {
    const segment = fc.oneof(fc.constantFrom('arn', 'aws', 'iam', 'sts', '', '111122223333', 'user', 'assumed-role', 'Admin', 'x:y', 'ops/alice', 'assumed-role/', '/'), fc.string({ maxLength: 6 }));
    const arn = fc.array(fc.tuple(segment, fc.constantFrom(':', ':', '/')), { maxLength: 9 }).map((parts) => parts.map(([s, sep]) => s + sep).join(''));
    fc.assert(
      fc.property(fc.oneof(arn, fc.array(segment, { maxLength: 9 }).map((p) => p.join(':'))), (text) => {
        // A Federated user is named by its ARN first, and by its principal id only when the ARN names nothing.
        const actor = eventOf(record('ec2.amazonaws.com', 'DescribeInstances', {}, { userIdentity: { type: 'FederatedUser', arn: text, principalId: 'P' } })).actor;
        expect(actor.name).toBe(text.length > 0 ? (nameBySplitting(text) ?? 'P') : 'P');
      }),
      { numRuns: 2000 },
    );
  });

  it('fall back to the user name for the types that have one, and only for them', () => {
    const identity = { arn: 'arn:aws:iam::111122223333:root', principalId: 'P', userName: 'carol', accountId: '111122223333' };
    const nameOf = (type: string, extra: Record<string, unknown> = {}) =>
      eventOf(record('ec2.amazonaws.com', 'DescribeInstances', {}, { userIdentity: { ...identity, type, ...extra } })).actor.name;
    expect(nameOf('IAMUser')).toBe('carol');
    expect(nameOf('SAMLUser')).toBe('carol');
    expect(nameOf('IdentityCenterUser')).toBe('identity-center/carol');
    expect(nameOf('FederatedUser', { arn: 'arn:aws:sts::111122223333:' })).toBe('carol');
    expect(nameOf('Unknown', { arn: undefined })).toBe('carol');
    expect(nameOf('AssumedRole', { arn: 'arn:aws:sts::111122223333:assumed-role/' })).toBe('P');
    expect(nameOf('AWSAccount')).toBe('account 111122223333');
  });
});

describe('the failure of a failed call', () => {
  it('carries the error message when there is one, read whatever its case', () => {
    const failed = eventOf(record('ec2.amazonaws.com', 'DescribeInstances', {}, { errorCode: 'AccessDenied', ErrorMessage: 'not allowed' }));
    expect(failed.failure).toEqual({ errorCode: 'AccessDenied', errorMessage: 'not allowed' });
    expect(eventOf(record('ec2.amazonaws.com', 'DescribeInstances', {}, { errorCode: 'AccessDenied' })).failure).toEqual({ errorCode: 'AccessDenied' });
    expect(eventOf(record('ec2.amazonaws.com', 'DescribeInstances', {}, { errorMessage: 'ignored without a code' })).failure).toBeUndefined();
  });

  it('names the event id and name in a rejection, and only those it has', () => {
    const r = record('ec2.amazonaws.com', 'CreateKeyPair', {});
    expect(normalize(r)).toEqual({ rejected: true, code: 'missing-field', reason: 'The CloudTrail record has no requestParameters.keyName.', eventId: r['eventID'], eventName: 'CreateKeyPair' });
    const noRegion = record('ec2.amazonaws.com', 'DescribeInstances', {});
    delete noRegion['awsRegion'];
    expect(normalize(noRegion)).toMatchObject({ code: 'missing-field', reason: 'The CloudTrail record has no awsRegion.', eventId: noRegion['eventID'] });
    const badTime = record('ec2.amazonaws.com', 'DescribeInstances', {}, { eventTime: 'yesterday' });
    expect(normalize(badTime)).toMatchObject({ code: 'invalid-field', eventId: badTime['eventID'], eventName: 'DescribeInstances' });
    const noId = record('ec2.amazonaws.com', 'DescribeInstances', {});
    delete noId['eventID'];
    expect(normalize(noId)).toEqual({ rejected: true, code: 'missing-field', reason: 'The CloudTrail record has no eventID.', eventName: 'DescribeInstances' });
  });
});
