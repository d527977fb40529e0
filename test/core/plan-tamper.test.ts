/**
 * Self-defence that acts: what the plan does about tampering with driftwarden, from the
 * CloudTrail record through normalize, classify and plan (the context is given as data).
 */
import { notFound, unknown, type ResourceContext } from '../../functions/core/context';
import { classify } from '../../functions/core/classify';
import type { Plan, RestoreLoggingStep, RevertTagsStep, Step } from '../../functions/core/decision';
import { normalize } from '../../functions/core/normalize';
import { planResponse } from '../../functions/core/plan';
import type { PolicyInput } from '../../functions/core/policy/schema';
import { restoredMarkValue } from '../../functions/core/tamper-response';
import { aGroup, anInstance, contextWith, policyWith } from './fixtures/builders';

const ACCOUNT = '111122223333';
const ALICE = { type: 'IAMUser', principalId: 'AIDAALICE', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT, userName: 'alice' };
const BREAK_GLASS = {
  type: 'AssumedRole',
  principalId: 'AROABREAK:carol',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/break-glass-admin/carol`,
  accountId: ACCOUNT,
  sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROABREAK', arn: `arn:aws:iam::${ACCOUNT}:role/break-glass-admin`, accountId: ACCOUNT, userName: 'break-glass-admin' } },
};
const POLICY: PolicyInput = { exemptions: { setters: [`arn:aws:iam::${ACCOUNT}:role/break-glass-*`] } };
const EVENT_ID = 'a1b2c3d4-0000-4000-8000-000000000001';

/** A CloudTrail record as EventBridge delivers it. */
function cloudTrail(source: string, eventName: string, requestParameters: Record<string, unknown>, userIdentity: Record<string, unknown> = ALICE): unknown {
  return {
    version: '0',
    id: 'eb-1',
    'detail-type': 'AWS API Call via CloudTrail',
    source: `aws.${source}`,
    account: ACCOUNT,
    time: '2026-11-20T09:16:52Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventVersion: '1.10',
      userIdentity,
      eventTime: '2026-11-20T09:16:52Z',
      eventSource: `${source}.amazonaws.com`,
      eventName,
      awsRegion: 'eu-west-1',
      sourceIPAddress: '203.0.113.24',
      userAgent: 'aws-cli/2.22.4',
      requestParameters,
      responseElements: null,
      eventID: EVENT_ID,
      readOnly: false,
      eventType: 'AwsApiCall',
      recipientAccountId: ACCOUNT,
    },
  };
}

const tagCall = (eventName: 'CreateTags' | 'DeleteTags', resourceId: string, tags: { key: string; value?: string }[], who: Record<string, unknown> = ALICE) =>
  cloudTrail('ec2', eventName, { resourcesSet: { items: [{ resourceId }] }, tagSet: { items: tags } }, who);

function planFor(record: unknown, context: ResourceContext, policy: PolicyInput = POLICY, dryRun = false): Plan {
  const normalized = normalize(record);
  if (normalized.rejected) throw new Error(`fixture did not normalize: ${normalized.reason}`);
  const p = policyWith(policy);
  return planResponse({ event: normalized.event, classification: classify(normalized.event, p, context), context, policy: p, dryRun });
}

const actions = (steps: Step[]): string[] => steps.map((s) => s.action);
const revertOf = (plan: Plan): RevertTagsStep[] => plan.steps.filter((s): s is RevertTagsStep => s.action === 'revert-tags');
const restartOf = (plan: Plan): RestoreLoggingStep[] => plan.steps.filter((s): s is RestoreLoggingStep => s.action === 'restore-logging');
const notifyOf = (plan: Plan) => plan.steps.find((s) => s.action === 'notify');

const QUARANTINED = {
  'driftwarden:reason': 'unapproved-ami: launched from ami-0bad',
  'driftwarden:quarantined-at': '2026-11-20T09:11:30.000Z',
  'driftwarden:original-groups': '{"eni-0a":["sg-0app"]}',
};

describe('tampering with driftwarden tags is reverted', () => {
  it('puts back the quarantine mark alice deleted, with the exact value the DeleteTags call named', () => {
    const record = tagCall('DeleteTags', 'i-0aaa', [{ key: 'driftwarden:quarantined', value: 'unapproved-ami:evt-9' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa', { tags: { Name: 'box', ...QUARANTINED } })] }));
    expect(plan.decision).toBe('contain');
    expect(actions(plan.steps)).toEqual(['revert-tags', 'notify']);
    expect(revertOf(plan)).toEqual([
      expect.objectContaining({ resource: 'i-0aaa', findingId: `driftwarden-tamper:${EVENT_ID}`, remove: [], restore: [{ key: 'driftwarden:quarantined', value: 'unapproved-ami:evt-9' }] }),
    ]);
    expect(notifyOf(plan)).toMatchObject({ severity: 'CRITICAL' });
    expect(plan.severity).toBe('CRITICAL');
  });

  it('restores the value the context last read when the call did not name one', () => {
    const record = tagCall('DeleteTags', 'i-0aaa', [{ key: 'driftwarden:quarantined' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa', { tags: { 'driftwarden:quarantined': 'shell-access:evt-3' } })] }));
    expect(revertOf(plan)[0].restore).toEqual([{ key: 'driftwarden:quarantined', value: 'shell-access:evt-3' }]);
  });

  it('keeps the instance marked quarantined when the old value is unknowable, and says why', () => {
    const record = tagCall('DeleteTags', 'i-0aaa', [{ key: 'driftwarden:quarantined' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa', { tags: { ...QUARANTINED } })] }));
    const [step] = revertOf(plan);
    expect(step.restore).toEqual([{ key: 'driftwarden:quarantined', value: restoredMarkValue(EVENT_ID) }]);
    expect(step.restore[0].value).toBe(`restored-by-driftwarden:${EVENT_ID}`);
    expect(step.reason).toContain('the other driftwarden marks show it was quarantined');
    expect(step.reason).toContain('no later change to it makes driftwarden act on it again');
    expect(plan.humanActions).toEqual([]);
  });

  it('asks a human to confirm when nothing else shows the instance was quarantined', () => {
    const record = tagCall('DeleteTags', 'i-0aaa', [{ key: 'driftwarden:quarantined' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa', { tags: { Name: 'box' } })] }));
    expect(revertOf(plan)[0].restore).toEqual([{ key: 'driftwarden:quarantined', value: restoredMarkValue(EVENT_ID) }]);
    expect(plan.humanActions).toEqual([expect.stringContaining('Confirm that i-0aaa was quarantined')]);
  });

  it('never isolates, snapshots or replaces the instance whose tag was changed', () => {
    const record = tagCall('DeleteTags', 'i-0aaa', [{ key: 'driftwarden:quarantined', value: 'x' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa', { tags: {} })] }), { ...POLICY, rules: { 'driftwarden-tamper': { mode: 'replace' } } });
    expect(plan.decision).toBe('contain');
    expect(actions(plan.steps)).toEqual(['revert-tags', 'notify']);
  });

  it('deletes exactly the exemption key alice (not an allowed setter) added, and no other tag', () => {
    const record = tagCall('CreateTags', 'i-0aaa', [{ key: 'driftwarden:exempt-until', value: '2026-12-31T00:00:00Z' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa', { tags: { Name: 'web', 'driftwarden:exempt-until': '2026-12-31T00:00:00Z' } })] }));
    expect(plan.decision).toBe('contain');
    expect(revertOf(plan)).toEqual([expect.objectContaining({ resource: 'i-0aaa', remove: ['driftwarden:exempt-until'], restore: [] })]);
  });

  it('deletes a forged quarantine mark on an instance that was never quarantined', () => {
    const record = tagCall('CreateTags', 'i-0aaa', [{ key: 'driftwarden:quarantined', value: 'forged' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa', { tags: { 'driftwarden:quarantined': 'forged' } })] }));
    expect(revertOf(plan)[0]).toMatchObject({ remove: ['driftwarden:quarantined'], restore: [] });
  });

  it('does not remove a quarantine mark overwritten on a quarantined instance (that would release it); a human checks it', () => {
    const record = tagCall('CreateTags', 'i-0aaa', [{ key: 'driftwarden:quarantined', value: 'mine-now' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa', { tags: { 'driftwarden:quarantined': 'mine-now', ...QUARANTINED } })] }));
    expect(revertOf(plan)).toEqual([]);
    expect(plan.decision).toBe('observe');
    expect(plan.humanActions).toEqual([expect.stringContaining('Check driftwarden:quarantined on i-0aaa')]);
  });

  it('puts back the previous value when the context was read before the change (replay of an older snapshot)', () => {
    const record = tagCall('CreateTags', 'sg-0abc', [{ key: 'driftwarden:quarantined', value: 'forged' }]);
    const plan = planFor(record, contextWith({ groups: [aGroup('sg-0abc', { 'driftwarden:quarantined': 'admin-port-open-to-world:e1' })] }));
    expect(revertOf(plan)[0]).toMatchObject({ resource: 'sg-0abc', remove: [], restore: [{ key: 'driftwarden:quarantined', value: 'admin-port-open-to-world:e1' }] });
  });

  it('fails closed: a quarantine key set on a resource whose tags cannot be read is not removed, and the plan is held', () => {
    const record = tagCall('CreateTags', 'i-0aaa', [{ key: 'driftwarden:quarantined', value: 'x' }]);
    const plan = planFor(record, contextWith({ lookups: { instances: { 'i-0aaa': unknown('ThrottlingException') } } }));
    expect(plan.decision).toBe('held');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(notifyOf(plan)?.reason).toContain('ThrottlingException');
  });

  it('a resource that is gone has nothing to revert', () => {
    const record = tagCall('DeleteTags', 'i-0aaa', [{ key: 'driftwarden:quarantined', value: 'x' }]);
    const plan = planFor(record, contextWith({ lookups: { instances: { 'i-0aaa': notFound() } } }));
    expect(revertOf(plan)).toEqual([]);
    expect(plan.warnings).toContain('i-0aaa no longer exists: no tag to revert on it.');
  });

  it('an allowed exemption setter (break glass) setting the exemption: no finding, no step', () => {
    const record = tagCall(
      'CreateTags',
      'i-0aaa',
      [
        { key: 'driftwarden:exempt-until', value: '2026-11-21T00:00:00Z' },
        { key: 'driftwarden:exempt-reason', value: 'INC-42' },
      ],
      BREAK_GLASS,
    );
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa')] }));
    expect(plan.findings).toEqual([]);
    expect(plan.steps).toEqual([]);
  });

  it('observe mode only notifies', () => {
    const record = tagCall('DeleteTags', 'i-0aaa', [{ key: 'driftwarden:quarantined', value: 'x' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa')] }), { ...POLICY, rules: { 'driftwarden-tamper': { mode: 'observe' } } });
    expect(plan.decision).toBe('observe');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(notifyOf(plan)).toMatchObject({ severity: 'CRITICAL' });
  });

  it('dry run keeps the revert in the plan, marked dry run (the executor sends nothing)', () => {
    const record = tagCall('DeleteTags', 'i-0aaa', [{ key: 'driftwarden:quarantined', value: 'x' }]);
    const plan = planFor(record, contextWith({ instances: [anInstance('i-0aaa')] }), POLICY, true);
    expect(plan.dryRun).toBe(true);
    expect(actions(plan.steps)).toEqual(['revert-tags', 'notify']);
  });
});

describe('tampering with the trail or AWS Config', () => {
  it('StopLogging → restore-logging on the trail ARN the call named', () => {
    const trail = `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/organization-trail`;
    const plan = planFor(cloudTrail('cloudtrail', 'StopLogging', { name: trail }), contextWith({}));
    expect(plan.decision).toBe('contain');
    expect(actions(plan.steps)).toEqual(['restore-logging', 'notify']);
    expect(restartOf(plan)).toEqual([expect.objectContaining({ service: 'cloudtrail', resource: trail, findingId: `driftwarden-tamper:${EVENT_ID}` })]);
    expect(notifyOf(plan)).toMatchObject({ severity: 'CRITICAL' });
  });

  it('StopConfigurationRecorder → restore-logging on that recorder', () => {
    const plan = planFor(cloudTrail('config', 'StopConfigurationRecorder', { configurationRecorderName: 'default' }), contextWith({}));
    expect(restartOf(plan)).toEqual([expect.objectContaining({ service: 'config', resource: 'default' })]);
  });

  it.each([
    ['cloudtrail', 'DeleteTrail', { name: 'org-trail' }, 'Recreate CloudTrail trail org-trail'],
    ['cloudtrail', 'UpdateTrail', { name: 'org-trail' }, 'Restore the settings of CloudTrail trail org-trail'],
    ['cloudtrail', 'PutEventSelectors', { trailName: 'org-trail' }, 'Restore the event selectors of CloudTrail trail org-trail'],
    ['config', 'DeleteConfigurationRecorder', { configurationRecorderName: 'default' }, 'Recreate the AWS Config recorder default'],
    ['config', 'DeleteDeliveryChannel', { deliveryChannelName: 'default' }, 'Recreate the AWS Config delivery channel default'],
  ] as const)('%s:%s cannot be undone safely: observed, and a human is told exactly what to restore', (source, name, request, human) => {
    const plan = planFor(cloudTrail(source, name, request), contextWith({}));
    expect(plan.decision).toBe('observe');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.humanActions).toEqual([expect.stringContaining(human)]);
  });

  it('a trusted pipeline stopping logging: no finding, no step', () => {
    const pipeline = { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/pipeline-deploy/run-7`, accountId: ACCOUNT, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/pipeline-deploy` } } };
    const plan = planFor(cloudTrail('cloudtrail', 'StopLogging', { name: 'org-trail' }, pipeline), contextWith({}), { ...POLICY, trust: { pipelinePrincipals: [`arn:aws:iam::${ACCOUNT}:role/pipeline-deploy`] } });
    expect(plan.findings).toEqual([]);
    expect(plan.steps).toEqual([]);
  });
});
