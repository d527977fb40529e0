import type { ChangeEvent, ControlChange } from '../../../functions/core/model';
import { driftwardenTamper } from '../../../functions/core/rules/driftwarden-tamper';
import { actors, eventOf, findingsOf, inputOf, trustingPolicy } from './fixtures';

const control = (eventSource: string, eventName: string, change: Omit<ControlChange, 'kind'>, overrides: Partial<ChangeEvent> = {}) =>
  eventOf({ kind: 'control', ...change }, { eventSource, eventName, ...overrides });

const flagged = (event: ChangeEvent, policy = trustingPolicy()) => findingsOf(driftwardenTamper.evaluate(inputOf(event, policy)));

describe('driftwarden-tamper', () => {
  it('is CRITICAL, contains (reverts) by default, and cares who did it', () => {
    expect(driftwardenTamper).toMatchObject({ severity: 'CRITICAL', defaultMode: 'contain', actorMatters: true });
  });

  it('flags an untrusted user stopping CloudTrail logging, naming the trail', () => {
    const event = control('cloudtrail.amazonaws.com', 'StopLogging', { service: 'cloudtrail', target: 'management-events' });
    expect(flagged(event)).toEqual([
      {
        id: `driftwarden-tamper:${event.id}`,
        rule: 'driftwarden-tamper',
        severity: 'CRITICAL',
        summary: 'alice stopped CloudTrail logging on management-events',
        resources: [{ type: 'other', id: 'management-events' }],
      },
    ]);
  });

  it.each(['DeleteTrail', 'UpdateTrail', 'PutEventSelectors'])('flags cloudtrail:%s on any trail', (name) => {
    expect(flagged(control('cloudtrail.amazonaws.com', name, { service: 'cloudtrail', target: 'org-trail' }))).toHaveLength(1);
  });

  it('does not flag CloudTrail calls that do not blind the trail', () => {
    expect(flagged(control('cloudtrail.amazonaws.com', 'AddTags', { service: 'cloudtrail', target: 'org-trail' }))).toEqual([]);
  });

  it.each(['StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'])('flags config:%s', (name) => {
    expect(flagged(control('config.amazonaws.com', name, { service: 'config', target: 'default' }))).toHaveLength(1);
  });

  it.each(['DisableRule', 'DeleteRule', 'PutRule', 'RemoveTargets', 'PutTargets'])('flags events:%s on a driftwarden rule, not on other rules', (name) => {
    expect(flagged(control('events.amazonaws.com', name, { service: 'events', target: 'driftwarden-cloudtrail-events' }))).toHaveLength(1);
    expect(flagged(control('events.amazonaws.com', name, { service: 'events', target: 'billing-alarms' }))).toEqual([]);
  });

  it('recognises a driftwarden rule named by ARN', () => {
    const [finding] = flagged(control('events.amazonaws.com', 'DisableRule', { service: 'events', target: 'arn:aws:events:eu-west-1:111122223333:rule/default/driftwarden-config' }));
    expect(finding!.summary).toBe("alice called events:DisableRule on driftwarden's EventBridge rule driftwarden-config");
  });

  it('flags changes to driftwarden functions (event names with Lambda version suffixes too), not to other functions', () => {
    const [finding] = flagged(control('lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', { service: 'lambda', target: 'arn:aws:lambda:eu-west-1:111122223333:function:driftwarden-responder:live' }));
    expect(finding!.summary).toBe("alice called lambda:UpdateFunctionConfiguration on driftwarden's function driftwarden-responder");
    expect(flagged(control('lambda.amazonaws.com', 'DeleteFunction', { service: 'lambda', target: 'driftwarden-sweeper' }))).toHaveLength(1);
    expect(flagged(control('lambda.amazonaws.com', 'DeleteFunction', { service: 'lambda', target: 'orders-api' }))).toEqual([]);
    // The deployment gate is driftwarden's too, though CodeDeploy needs it named CodeDeployHook_*.
    expect(flagged(control('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', { service: 'lambda', target: 'CodeDeployHook_driftwarden-pre-traffic' }))).toHaveLength(1);
    expect(flagged(control('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', { service: 'lambda', target: 'CodeDeployHook_orders' }))).toEqual([]);
  });

  it('flags writing the kill switch and any /driftwarden/ parameter, not unrelated parameters', () => {
    const [finding] = flagged(control('ssm.amazonaws.com', 'PutParameter', { service: 'ssm', target: '/driftwarden/kill-switch' }));
    expect(finding!.summary).toBe("alice wrote driftwarden's SSM parameter /driftwarden/kill-switch");
    expect(finding!.resources).toEqual([{ type: 'other', id: '/driftwarden/kill-switch' }]);
    expect(flagged(control('ssm.amazonaws.com', 'DeleteParameter', { service: 'ssm', target: 'arn:aws:ssm:eu-west-1:111122223333:parameter/driftwarden/golden-amis/web' }))).toHaveLength(1);
    expect(flagged(control('ssm.amazonaws.com', 'PutParameter', { service: 'ssm', target: '/app/db-url' }))).toEqual([]);
  });

  it('finds a driftwarden parameter anywhere in a DeleteParameters batch', () => {
    const event = control('ssm.amazonaws.com', 'DeleteParameters', { service: 'ssm', target: '/app/a', details: { names: ['/app/a', '/driftwarden/kill-switch'] } });
    expect(flagged(event)[0]!.resources).toEqual([{ type: 'other', id: '/driftwarden/kill-switch' }]);
  });

  it('flags writing under the policy\'s golden-image SSM path even outside /driftwarden/', () => {
    const policy = trustingPolicy({ approvedAmis: { ssmParameterPath: '/images/golden' } });
    expect(flagged(control('ssm.amazonaws.com', 'PutParameter', { service: 'ssm', target: '/images/golden/web' }), policy)).toHaveLength(1);
    expect(flagged(control('ssm.amazonaws.com', 'PutParameter', { service: 'ssm', target: '/images/goldenrod' }), policy)).toEqual([]);
  });

  it('flags removing the quarantine tag, naming the instance', () => {
    const [finding] = flagged(control('ec2.amazonaws.com', 'DeleteTags', { service: 'tags', tagKeys: ['driftwarden:quarantined'], resourceIds: ['i-0web'] }));
    expect(finding!.summary).toBe('alice removed driftwarden tag driftwarden:quarantined from i-0web');
    expect(finding!.resources).toEqual([{ type: 'instance', id: 'i-0web' }]);
  });

  it('does not flag tags that are not driftwarden\'s', () => {
    expect(flagged(control('ec2.amazonaws.com', 'CreateTags', { service: 'tags', tagKeys: ['Name', 'team'], resourceIds: ['i-0web'] }))).toEqual([]);
  });

  it('lets an allowed exemption setter set the exemption tags (break glass), but not other driftwarden tags', () => {
    const policy = trustingPolicy({ exemptions: { setters: ['arn:aws:iam::111122223333:role/break-glass-*'] } });
    const exempt = control('ec2.amazonaws.com', 'CreateTags', { service: 'tags', tagKeys: ['driftwarden:exempt-until', 'driftwarden:exempt-reason'], resourceIds: ['i-0web'] }, { actor: actors.breakGlass });
    expect(flagged(exempt, policy)).toEqual([]);
    const forged = control('ec2.amazonaws.com', 'DeleteTags', { service: 'tags', tagKeys: ['driftwarden:quarantined'], resourceIds: ['i-0web'] }, { actor: actors.breakGlass });
    expect(flagged(forged, policy)).toHaveLength(1);
    const byAlice = control('ec2.amazonaws.com', 'CreateTags', { service: 'tags', tagKeys: ['driftwarden:exempt-until'], resourceIds: ['i-0web'] });
    expect(flagged(byAlice, policy)).toHaveLength(1);
  });

  it('does not flag the pipeline that deploys driftwarden', () => {
    expect(flagged(control('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', { service: 'lambda', target: 'driftwarden-responder' }, { actor: actors.pipeline }))).toEqual([]);
  });
});
