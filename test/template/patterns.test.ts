/**
 * The EventBridge rules of template.yaml against the recorded samples in events/ (read
 * dynamically: every EventBridge envelope under events/positive, events/negative and
 * events/invalid) and against cases the samples do not cover. The patterns are the first filter: a positive sample they miss is a detection
 * gap nobody would see.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { matchesPattern } from '../../functions/core/eventbridge-pattern';
import { eventPatterns, ROOT, template } from './templates';

const EVENTS = join(ROOT, 'events');
const patterns = eventPatterns(template('template.yaml'));

/** The rules (logical ids) whose pattern matches the event. */
const matchingRules = (event: unknown): string[] => Object.entries(patterns).filter(([, p]) => matchesPattern(p, event)).map(([id]) => id);


function listJson(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return listJson(full);
    return name.endsWith('.json') ? [full] : [];
  });
}

const isEnvelope = (v: unknown): v is Record<string, any> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as any).source === 'string' && typeof (v as any)['detail-type'] === 'string';

/** Every EventBridge envelope in a sample folder, named `<folder>/<file>` (and `#n` for arrays). */
function samples(folder: string): [string, Record<string, any>][] {
  return listJson(join(EVENTS, folder)).flatMap((file): [string, Record<string, any>][] => {
    const name = relative(EVENTS, file).split('\\').join('/');
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return []; // not JSON: a normalizer sample, nothing EventBridge would deliver
    }
    if (Array.isArray(parsed)) return parsed.filter(isEnvelope).map((e, i): [string, Record<string, any>] => [`${name}#${i}`, e]);
    return isEnvelope(parsed) ? [[name, parsed]] : [];
  });
}

const positives = samples('positive');
const negatives = samples('negative');
const invalid = samples('invalid');

const isFailedCall = (e: Record<string, any>) => e['detail-type'] === 'AWS API Call via CloudTrail' && e.detail?.errorCode !== undefined;

describe('the rules of template.yaml against the recorded samples', () => {
  it('finds the recorded samples (events/positive and events/negative)', () => {
    expect(positives.length).toBeGreaterThan(0);
    expect(negatives.length).toBeGreaterThan(0);
  });

  it('reads every EventBridge sample that events/expected.json lists', () => {
    const expectedFile = join(EVENTS, 'expected.json');
    const listed = existsSync(expectedFile) ? Object.keys(JSON.parse(readFileSync(expectedFile, 'utf8')) as Record<string, unknown>) : [];
    const read = new Set([...positives, ...negatives, ...invalid].map(([name]) => name.replace(/#\d+$/, '')));
    const envelopes = listed.filter((name) => {
      try {
        const parsed: unknown = JSON.parse(readFileSync(join(EVENTS, name), 'utf8'));
        return Array.isArray(parsed) ? parsed.some(isEnvelope) : isEnvelope(parsed);
      } catch {
        return false;
      }
    });
    expect(envelopes.length).toBeGreaterThan(0);
    expect(envelopes.filter((name) => !read.has(name))).toEqual([]);
  });

  for (const [name, event] of positives) {
    it(`delivers positive sample ${name}`, () => {
      expect(matchingRules(event).length).toBeGreaterThan(0);
    });
  }

  // What the patterns drop is decided by the event alone: read-only calls, failed calls (they
  // changed nothing; only the tamper rule keeps them, and no tamper sample is negative), and
  // services driftwarden does not watch. Every other negative must reach the responder: the
  // core, not the pattern, decides that the actor is trusted or that the change is
  // driftwarden's own, and a Config item's content is the normalizer's to judge.
  const WATCHED_SOURCES = ['aws.ec2', 'aws.ssm', 'aws.ec2-instance-connect', 'aws.config', 'aws.cloudtrail', 'aws.events', 'aws.lambda', 'aws.cloudformation'];
  const droppedFailures = negatives.filter(([, e]) => isFailedCall(e));
  const WATCHED_CONFIG_TYPES = ['AWS::EC2::Instance', 'AWS::EC2::SecurityGroup'];
  const configType = (e: Record<string, any>): string | undefined => e.detail?.configurationItem?.resourceType ?? e.detail?.configurationItemSummary?.resourceType;
  const droppedUnread = negatives.filter(
    ([, e]) =>
      !isFailedCall(e) &&
      (e.detail?.readOnly === true || !WATCHED_SOURCES.includes(e.source) || (e.source === 'aws.config' && !WATCHED_CONFIG_TYPES.includes(configType(e) ?? ''))),
  );
  const reachCore = negatives.filter(([name]) => !droppedFailures.some(([n]) => n === name) && !droppedUnread.some(([n]) => n === name));

  for (const [name, event] of reachCore) {
    it(`delivers ${name}: the core, not the pattern, judges it`, () => {
      expect(matchingRules(event).length).toBeGreaterThan(0);
    });
  }

  for (const [name, event] of droppedFailures) {
    it(`drops failed call ${name}`, () => {
      expect(matchingRules(event)).toEqual([]);
    });
  }

  for (const [name, event] of droppedUnread) {
    it(`drops ${name}: read-only, or a service driftwarden does not watch`, () => {
      expect(matchingRules(event)).toEqual([]);
    });
  }

  for (const [name, event] of invalid) {
    it(`drops invalid sample ${name}`, () => {
      expect(matchingRules(event)).toEqual([]);
    });
  }
});

/** A CloudTrail envelope, for the cases the samples do not cover. */
function cloudTrail(source: string, eventSource: string, eventName: string, detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: 'b8e7f1a2-0000-4000-8000-000000000001',
    'detail-type': 'AWS API Call via CloudTrail',
    source,
    account: '111122223333',
    time: '2026-11-20T09:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { eventVersion: '1.09', eventSource, eventName, readOnly: false, eventID: 'e-1', ...detail },
  };
}

describe('the rules of template.yaml on cases the samples do not cover', () => {
  it('delivers a write call whose record carries no readOnly field', () => {
    const event = cloudTrail('aws.ec2', 'ec2.amazonaws.com', 'StopInstances');
    delete (event.detail as Record<string, unknown>).readOnly;
    expect(matchingRules(event)).toEqual(['ResponderEc2Rule']);
  });

  it('drops a record marked readOnly true even for a listed name', () => {
    expect(matchingRules(cloudTrail('aws.ec2', 'ec2.amazonaws.com', 'StopInstances', { readOnly: true }))).toEqual([]);
  });

  it.each([
    ['aws.ec2-instance-connect', 'ec2-instance-connect.amazonaws.com', 'SendSerialConsoleSSHPublicKey', 'ResponderInstanceConnectRule'],
    ['aws.ssm', 'ssm.amazonaws.com', 'SendCommand', 'ResponderSsmRule'],
    ['aws.ec2', 'ec2.amazonaws.com', 'ModifyInstanceMetadataOptions', 'ResponderEc2Rule'],
  ])('delivers %s %s %s to %s', (source, eventSource, eventName, rule) => {
    expect(matchingRules(cloudTrail(source, eventSource, eventName))).toEqual([rule]);
  });

  it('keeps a FAILED StopLogging for the tamper rule: an attempt is worth knowing', () => {
    const event = cloudTrail('aws.cloudtrail', 'cloudtrail.amazonaws.com', 'StopLogging', { errorCode: 'AccessDenied' });
    expect(matchingRules(event)).toEqual(['ResponderTamperRule']);
  });

  it.each([
    ['driftwarden-responder', ['ResponderTamperRule']],
    ['arn:aws:lambda:eu-west-1:111122223333:function:driftwarden-responder', ['ResponderTamperRule']],
    ['CodeDeployHook_driftwarden-pre-traffic', ['ResponderTamperRule']],
    ['payments-api', []],
  ])('a code update of Lambda function %s is tamper: %j', (functionName, rules) => {
    const event = cloudTrail('aws.lambda', 'lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', { requestParameters: { functionName } });
    expect(matchingRules(event)).toEqual(rules);
  });

  it.each([
    ['DisableRule', { name: 'driftwarden-responder-ec2' }, ['ResponderTamperRule']],
    ['RemoveTargets', { rule: 'driftwarden-responder-ec2', ids: ['responder'] }, ['ResponderTamperRule']],
    ['DisableRule', { name: 'nightly-batch' }, []],
  ])('events %s %j is tamper: %j', (eventName, requestParameters, rules) => {
    expect(matchingRules(cloudTrail('aws.events', 'events.amazonaws.com', eventName as string, { requestParameters }))).toEqual(rules);
  });

  it.each([
    [{ names: ['/app/db-url', '/driftwarden/kill-switch'] }, 'DeleteParameters', ['ResponderTamperRule']],
    [{ name: '/app/db-url' }, 'PutParameter', []],
  ])('ssm %j %s is tamper: %j', (requestParameters, eventName, rules) => {
    expect(matchingRules(cloudTrail('aws.ssm', 'ssm.amazonaws.com', eventName, { requestParameters }))).toEqual(rules);
  });

  const configItem = (form: 'full' | 'oversized', resourceType: string) => ({
    version: '0',
    id: 'c-1',
    'detail-type': 'Config Configuration Item Change',
    source: 'aws.config',
    account: '111122223333',
    time: '2026-11-20T09:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail:
      form === 'full'
        ? { messageType: 'ConfigurationItemChangeNotification', configurationItem: { resourceType, resourceId: 'x' } }
        : { messageType: 'OversizedConfigurationItemChangeNotification', configurationItemSummary: { resourceType, resourceId: 'x' } },
  });

  it.each([
    ['full', 'AWS::EC2::Instance', ['ResponderConfigRule']],
    ['oversized', 'AWS::EC2::Instance', ['ResponderConfigRule']],
    ['full', 'AWS::S3::Bucket', []],
    ['oversized', 'AWS::IAM::Role', []],
  ] as const)('a %s Config item of %s goes to %j', (form, resourceType, rules) => {
    expect(matchingRules(configItem(form, resourceType))).toEqual(rules);
  });

  // The CloudFormation example event from "Stack Status Change event detail".
  const stackStatus = (token: string, status: string) => ({
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'CloudFormation Stack Status Change',
    source: 'aws.cloudformation',
    account: '111122223333',
    time: '2017-12-22T18:43:48Z',
    region: 'us-west-1',
    resources: ['arn:aws:cloudformation:us-west-1:111122223333:stack/teststack/1'],
    detail: { 'stack-id': 'arn:aws:cloudformation:us-west-1:111122223333:stack/teststack/1', 'status-details': { status, 'status-reason': '' }, 'client-request-token': token },
  });

  it.each([
    ['driftwarden-0a1b2c', 'UPDATE_COMPLETE', ['WatcherStackStatusRule']],
    ['driftwarden-0a1b2c', 'UPDATE_ROLLBACK_COMPLETE', ['WatcherStackStatusRule']],
    ['driftwarden-0a1b2c', 'UPDATE_IN_PROGRESS', []],
    ['Console-UpdateStack-7f59c3cf', 'UPDATE_COMPLETE', []],
  ])('a stack status change with token %s and status %s goes to %j', (token, status, rules) => {
    expect(matchingRules(stackStatus(token, status))).toEqual(rules);
  });
});
