import { EventPatternError, matchesPattern } from '../../functions/core/eventbridge-pattern';

// The EC2 state-change example from the EventBridge user guide ("Event patterns").
const ec2StateChange = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

describe('matchesPattern: field presence and exact values', () => {
  it('matches the user guide example on source, detail-type and a nested field', () => {
    const pattern = { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } };
    expect(matchesPattern(pattern, ec2StateChange)).toBe(true);
    expect(matchesPattern({ ...pattern, detail: { state: ['running'] } }, ec2StateChange)).toBe(false);
  });

  it('matches when any of several listed values equals the field', () => {
    expect(matchesPattern({ source: ['aws.ec2', 'aws.fargate'] }, ec2StateChange)).toBe(true);
    expect(matchesPattern({ source: ['aws.s3', 'aws.fargate'] }, ec2StateChange)).toBe(false);
  });

  it('requires every named field to be present with the same nesting', () => {
    expect(matchesPattern({ detail: { missing: ['x'] } }, ec2StateChange)).toBe(false);
    expect(matchesPattern({ state: ['terminated'] }, ec2StateChange)).toBe(false);
  });

  it('compares by JSON type: "5" is not 5, "true" is not true', () => {
    expect(matchesPattern({ n: [5] }, { n: 5 })).toBe(true);
    expect(matchesPattern({ n: ['5'] }, { n: 5 })).toBe(false);
    expect(matchesPattern({ b: [false] }, { b: false })).toBe(true);
    expect(matchesPattern({ b: ['false'] }, { b: false })).toBe(false);
    expect(matchesPattern({ v: [null] }, { v: null })).toBe(true);
    expect(matchesPattern({ v: [null] }, {})).toBe(false);
  });

  it('matches an event array when any element matches', () => {
    expect(matchesPattern({ resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] }, ec2StateChange)).toBe(true);
    expect(matchesPattern({ resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-other'] }, ec2StateChange)).toBe(false);
  });

  it('matches an object sub-pattern within one element of an array of objects', () => {
    const event = { items: [{ a: 'x', b: 1 }, { a: 'y', b: 2 }] };
    expect(matchesPattern({ items: { a: ['y'], b: [2] } }, event)).toBe(true);
    // a from one element and b from another is not a match.
    expect(matchesPattern({ items: { a: ['x'], b: [2] } }, event)).toBe(false);
  });
});

describe('matchesPattern: string operators', () => {
  it('prefix and prefix ignoring case', () => {
    expect(matchesPattern({ time: [{ prefix: '2017-12-22' }] }, ec2StateChange)).toBe(true);
    expect(matchesPattern({ time: [{ prefix: '2017-10-02' }] }, ec2StateChange)).toBe(false);
    expect(matchesPattern({ service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, { service: 'eventbridge' })).toBe(true);
    expect(matchesPattern({ service: [{ prefix: 'EventB' }] }, { service: 'eventbridge' })).toBe(false);
  });

  it('suffix and suffix ignoring case', () => {
    expect(matchesPattern({ FileName: [{ suffix: '.png' }] }, { FileName: 'a.png' })).toBe(true);
    expect(matchesPattern({ FileName: [{ suffix: '.png' }] }, { FileName: 'a.PNG' })).toBe(false);
    expect(matchesPattern({ FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { FileName: 'a.PNG' })).toBe(true);
  });

  it('equals-ignore-case', () => {
    expect(matchesPattern({ name: [{ 'equals-ignore-case': 'alice' }] }, { name: 'ALICE' })).toBe(true);
    expect(matchesPattern({ name: [{ 'equals-ignore-case': 'alice' }] }, { name: 'alicia' })).toBe(false);
  });

  it('wildcard: * spans any run of characters, \\* is a literal star', () => {
    const p = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };
    expect(matchesPattern(p, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' })).toBe(true);
    expect(matchesPattern(p, { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/default' })).toBe(false);
    expect(matchesPattern({ f: [{ wildcard: 'a\\*b' }] }, { f: 'a*b' })).toBe(true);
    expect(matchesPattern({ f: [{ wildcard: 'a\\*b' }] }, { f: 'axxb' })).toBe(false);
    expect(matchesPattern({ f: [{ wildcard: 'a.c' }] }, { f: 'abc' })).toBe(false);
  });

  it('prefix matches strings only, never numbers', () => {
    expect(matchesPattern({ n: [{ prefix: '1' }] }, { n: 12 })).toBe(false);
  });
});

describe('matchesPattern: anything-but', () => {
  it('a single string or number', () => {
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2StateChange)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'terminated' }] } }, ec2StateChange)).toBe(false);
    expect(matchesPattern({ x: [{ 'anything-but': 123 }] }, { x: 124 })).toBe(true);
    expect(matchesPattern({ x: [{ 'anything-but': 123 }] }, { x: 123 })).toBe(false);
  });

  it('a list of values', () => {
    const p = { state: [{ 'anything-but': ['stopped', 'overloaded'] }] };
    expect(matchesPattern(p, { state: 'running' })).toBe(true);
    expect(matchesPattern(p, { state: 'stopped' })).toBe(false);
  });

  it('does not match a missing field (only exists:false does)', () => {
    expect(matchesPattern({ readOnly: [{ 'anything-but': 'true' }] }, {})).toBe(false);
  });

  it('does not match booleans or null: it compares strings and numbers only', () => {
    expect(matchesPattern({ readOnly: [{ 'anything-but': 'x' }] }, { readOnly: false })).toBe(false);
  });

  it('prefix, suffix, equals-ignore-case and wildcard forms', () => {
    expect(matchesPattern({ Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'eu-west-1' })).toBe(true);
    expect(matchesPattern({ Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'us-east-1' })).toBe(false);
    expect(matchesPattern({ F: [{ 'anything-but': { suffix: '.png' } }] }, { F: 'a.png' })).toBe(false);
    expect(matchesPattern({ s: [{ 'anything-but': { 'equals-ignore-case': ['init', 'stop'] } }] }, { s: 'STOP' })).toBe(false);
    expect(matchesPattern({ s: [{ 'anything-but': { 'equals-ignore-case': 'init' } }] }, { s: 'run' })).toBe(true);
    expect(matchesPattern({ P: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { P: '/usr/lib/x' })).toBe(false);
    expect(matchesPattern({ P: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { P: '/usr/bin/x' })).toBe(true);
  });

  it('matches an array when any element is not excluded', () => {
    expect(matchesPattern({ tags: [{ 'anything-but': 'a' }] }, { tags: ['a', 'b'] })).toBe(true);
    expect(matchesPattern({ tags: [{ 'anything-but': 'a' }] }, { tags: ['a'] })).toBe(false);
  });
});

describe('matchesPattern: exists', () => {
  it('exists:false matches a missing field and only a missing field', () => {
    expect(matchesPattern({ detail: { errorCode: [{ exists: false }] } }, { detail: {} })).toBe(true);
    expect(matchesPattern({ detail: { errorCode: [{ exists: false }] } }, { detail: { errorCode: 'AccessDenied' } })).toBe(false);
  });

  it('exists:true matches a present leaf, including null', () => {
    expect(matchesPattern({ detail: { state: [{ exists: true }] } }, ec2StateChange)).toBe(true);
    expect(matchesPattern({ detail: { nope: [{ exists: true }] } }, ec2StateChange)).toBe(false);
    expect(matchesPattern({ v: [{ exists: true }] }, { v: null })).toBe(true);
  });

  it('exists works on leaves: a field holding an object does not count as an existing value', () => {
    expect(matchesPattern({ detail: [{ exists: true }] }, ec2StateChange)).toBe(false);
  });

  it('a value or absence, as alternatives of one field', () => {
    const p = { readOnly: [false, { exists: false }] };
    expect(matchesPattern(p, { readOnly: false })).toBe(true);
    expect(matchesPattern(p, {})).toBe(true);
    expect(matchesPattern(p, { readOnly: true })).toBe(false);
  });
});

describe('matchesPattern: numeric and cidr', () => {
  it('numeric ranges from the user guide', () => {
    const p = { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } };
    expect(matchesPattern(p, { detail: { 'c-count': 5, 'd-count': 7, 'x-limit': 301.8 } })).toBe(true);
    expect(matchesPattern(p, { detail: { 'c-count': 0, 'd-count': 7, 'x-limit': 301.8 } })).toBe(false);
    expect(matchesPattern(p, { detail: { 'c-count': '5', 'd-count': 7, 'x-limit': 301.8 } })).toBe(false);
  });

  it('cidr for IPv4 and IPv6 source addresses', () => {
    expect(matchesPattern({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.255' })).toBe(true);
    expect(matchesPattern({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.1.1' })).toBe(false);
    expect(matchesPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8:1::1' })).toBe(true);
    expect(matchesPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db9::1' })).toBe(false);
  });
});

describe('matchesPattern: $or', () => {
  it('matches when any alternative matches, ANDed with the other keys', () => {
    const p = {
      source: ['aws.config'],
      detail: {
        $or: [
          { configurationItem: { resourceType: ['AWS::EC2::Instance'] } },
          { configurationItemSummary: { resourceType: ['AWS::EC2::Instance'] } },
        ],
      },
    };
    expect(matchesPattern(p, { source: 'aws.config', detail: { configurationItem: { resourceType: 'AWS::EC2::Instance' } } })).toBe(true);
    expect(matchesPattern(p, { source: 'aws.config', detail: { configurationItemSummary: { resourceType: 'AWS::EC2::Instance' } } })).toBe(true);
    expect(matchesPattern(p, { source: 'aws.config', detail: { configurationItem: { resourceType: 'AWS::S3::Bucket' } } })).toBe(false);
    expect(matchesPattern(p, { source: 'aws.ec2', detail: { configurationItem: { resourceType: 'AWS::EC2::Instance' } } })).toBe(false);
  });

  it('the user guide example across two numeric fields', () => {
    const p = { detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] } };
    expect(matchesPattern(p, { detail: { 'c-count': 9, 'd-count': 3 } })).toBe(true);
    expect(matchesPattern(p, { detail: { 'c-count': 9, 'd-count': 30 } })).toBe(false);
  });
});

describe('matchesPattern: unreadable patterns are typed errors, never a silent answer', () => {
  it.each([
    ['an unknown operator', { a: [{ contains: 'x' }] }],
    ['a bare scalar value', { a: 'x' }],
    ['exists with a string', { a: [{ exists: 'no' }] }],
    ['a one-element $or', { $or: [{ a: ['x'] }] }],
    ['a malformed numeric', { a: [{ numeric: ['>>', 1] }] }],
    ['a mixed anything-but list', { a: [{ 'anything-but': ['x', 1] }] }],
  ])('rejects %s', (_label, pattern) => {
    expect(() => matchesPattern(pattern, { a: 'x' })).toThrow(EventPatternError);
  });

  it('rejects a pattern that is not an object', () => {
    expect(() => matchesPattern(['x'], {})).toThrow(EventPatternError);
  });

  it('an event that is not an object matches nothing', () => {
    expect(matchesPattern({ a: ['x'] }, 'x')).toBe(false);
  });
});
