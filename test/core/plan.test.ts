import fc from 'fast-check';
import { found, notFound, unknown, type InstanceContext } from '../../functions/core/context';
import { STEP_ORDER, type Step } from '../../functions/core/decision';
import { RULE_IDS, type Finding, type RuleId } from '../../functions/core/model';
import { DECISIONS, durationSeconds, planResponse, replacementToken, type PlanInput } from '../../functions/core/plan';
import { MODES, type Mode, type PolicyInput } from '../../functions/core/policy/schema';
import {
  aGroup,
  anEvent,
  anInstance,
  classification,
  contextWith,
  inAutoScaling,
  instanceEvent,
  instanceFinding,
  inStack,
  PIPELINE_TRUST,
  policyWith,
  RDP_WORLD,
  sgEvent,
  sgFinding,
  SSH_WORLD,
} from './fixtures/builders';

const actions = (steps: Step[]): string[] => steps.map((s) => s.action);
const stepOf = <A extends Step['action']>(steps: Step[], action: A): Extract<Step, { action: A }>[] =>
  steps.filter((s): s is Extract<Step, { action: A }> => s.action === action);
const withModes = (modes: Partial<Record<RuleId, Mode>>, extra: PolicyInput = {}) =>
  policyWith({ ...extra, rules: Object.fromEntries(Object.entries(modes).map(([rule, mode]) => [rule, { mode }])) });

/** A typical finding for each rule, and the context it acts on. */
function scenario(rule: RuleId, mode: Mode): PlanInput {
  const policy = withModes({ [rule]: mode });
  switch (rule) {
    case 'admin-port-open-to-world':
    case 'security-group-manual-change': {
      const event = sgEvent('sg-0abc', [SSH_WORLD], 'evt-1');
      return { event, classification: classification([sgFinding(rule, 'evt-1')]), context: contextWith({ groups: [aGroup()] }), policy };
    }
    case 'instance-manual-change':
    case 'shell-access': {
      const event = instanceEvent(['i-0aaa'], 'evt-1', rule === 'shell-access' ? 'shell-access' : 'instance-change');
      return { event, classification: classification([instanceFinding(rule, 'evt-1')]), context: contextWith({ instances: [inStack()] }), policy };
    }
    case 'unapproved-ami':
    case 'ssh-key-material': {
      const event = instanceEvent(['i-0aaa'], 'evt-1', 'instance-launch');
      const finding = instanceFinding(rule, 'evt-1', ['i-0aaa'], { launchTime: true, launchSource: 'launch template lt-0abc (version 3)' });
      return { event, classification: classification([finding]), context: contextWith({ instances: [inStack()] }), policy };
    }
    case 'driftwarden-tamper': {
      const event = anEvent({ kind: 'control', service: 'cloudtrail', target: 'org-trail' }, { id: 'evt-1', eventName: 'StopLogging' });
      const finding: Finding = { id: 'driftwarden-tamper:evt-1', rule, severity: 'CRITICAL', summary: 'StopLogging on trail org-trail', resources: [{ type: 'other', id: 'org-trail' }] };
      return { event, classification: classification([finding]), context: contextWith({}), policy };
    }
  }
}

const EXPECTED: Record<RuleId, Record<Exclude<Mode, 'off'>, { decision: string; steps: string[] }>> = (() => {
  const observe = { decision: 'observe', steps: ['notify'] };
  const revoke = { decision: 'contain', steps: ['revoke-rule', 'notify'] };
  const contain = { decision: 'contain', steps: ['isolate-instance', 'snapshot-volumes', 'tag', 'notify'] };
  const replace = { decision: 'replace', steps: ['isolate-instance', 'snapshot-volumes', 'tag', 'notify', 'replace', 'terminate'] };
  const tamperRevert = { decision: 'contain', steps: ['restore-logging', 'notify'] };
  return {
    'admin-port-open-to-world': { observe, contain: revoke, replace: revoke },
    'security-group-manual-change': { observe, contain: revoke, replace: revoke },
    'instance-manual-change': { observe, contain, replace },
    'shell-access': { observe, contain, replace },
    'unapproved-ami': { observe, contain, replace: contain },
    'ssh-key-material': { observe, contain, replace: contain },
    // Tampering is undone (a stopped trail is started again), never isolated or replaced.
    'driftwarden-tamper': { observe, contain: tamperRevert, replace: tamperRevert },
  };
})();

describe('planResponse: every mode of every rule', () => {
  const cases = RULE_IDS.flatMap((rule) => MODES.map((mode) => [rule, mode] as const));
  it.each(cases)('%s in %s mode', (rule, mode) => {
    const plan = planResponse(scenario(rule, mode));
    if (mode === 'off') {
      expect(plan.decision).toBe('off');
      expect(plan.steps).toEqual([]);
      return;
    }
    expect({ decision: plan.decision, steps: actions(plan.steps) }).toEqual(EXPECTED[rule][mode]);
    expect(plan.key).toBe('evt-1');
    expect(plan.eventId).toBe('evt-1');
    for (const step of plan.steps) expect(step.reason.length).toBeGreaterThan(10);
  });
});

describe('planResponse: decisions', () => {
  it('lists every decision value once', () => {
    expect([...DECISIONS].sort()).toEqual(['contain', 'exempt', 'failed-call', 'held', 'no-finding', 'observe', 'off', 'quarantined', 'replace', 'trusted']);
  });

  it('no finding: no steps', () => {
    const plan = planResponse({ event: sgEvent(), classification: classification([]), context: contextWith({}), policy: policyWith() });
    expect(plan.decision).toBe('no-finding');
    expect(plan.steps).toEqual([]);
  });

  it('a trusted actor writing what actor-sensitive rules read: trusted, with its trust warnings', () => {
    const trust = { ...PIPELINE_TRUST, warnings: ['weak default'] };
    const plan = planResponse({ event: instanceEvent(), classification: classification([], { trust }), context: contextWith({}), policy: policyWith() });
    expect(plan.decision).toBe('trusted');
    expect(plan.warnings).toEqual(['weak default']);
    expect(plan.steps).toEqual([]);
  });

  it('a trusted actor launching an instance with no finding is simply no-finding (launch rules do not read the actor)', () => {
    const plan = planResponse({ event: instanceEvent(['i-0aaa'], 'e', 'instance-launch'), classification: classification([], { trust: PIPELINE_TRUST }), context: contextWith({}), policy: policyWith() });
    expect(plan.decision).toBe('no-finding');
  });

  it('a failed call changed nothing: failed-call, notified at LOW only when attempts are reported', () => {
    const event = { ...sgEvent('sg-0abc', [SSH_WORLD], 'evt-f'), failure: { errorCode: 'UnauthorizedOperation' } };
    const attempt = { ...sgFinding('admin-port-open-to-world', 'evt-f'), severity: 'LOW' as const, summary: 'Attempted: SSH open' };
    const reported = planResponse({ event, classification: classification([attempt], { attempted: true }), context: contextWith({}), policy: policyWith() });
    expect(reported.decision).toBe('failed-call');
    expect(reported.steps).toEqual([expect.objectContaining({ action: 'notify', severity: 'LOW', resource: 'sg-0abc' })]);
    const silent = planResponse({ event, classification: classification([attempt], { attempted: true }), context: contextWith({}), policy: policyWith({ attemptedViolations: { report: false } }) });
    expect(silent.decision).toBe('failed-call');
    expect(silent.steps).toEqual([]);
  });

  it('when every matching rule is off: off', () => {
    const plan = planResponse({
      event: sgEvent('sg-0abc', [SSH_WORLD], 'e'),
      classification: classification([sgFinding('admin-port-open-to-world', 'e'), sgFinding('security-group-manual-change', 'e')]),
      context: contextWith({ groups: [aGroup()] }),
      policy: withModes({ 'admin-port-open-to-world': 'off', 'security-group-manual-change': 'off' }),
    });
    expect(plan.decision).toBe('off');
    expect(plan.steps).toEqual([]);
  });

  it('a rule that could not judge, with nothing else found: held, notified with what could not be read', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e', 'instance-launch'),
      classification: classification([], { undetermined: [{ rule: 'unapproved-ami', reason: 'SSM path /golden/ unreadable: AccessDenied', resources: [{ type: 'image', id: 'ami-0x' }] }] }),
      context: contextWith({}),
      policy: policyWith(),
    });
    expect(plan.decision).toBe('held');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.steps[0].reason).toContain('SSM path /golden/ unreadable: AccessDenied');
  });
});

describe('planResponse: undetermined next to findings', () => {
  it('acts on what was found and warns about the rule that could not judge', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e', 'instance-launch'),
      classification: classification([instanceFinding('ssh-key-material', 'e', ['i-0aaa'], { launchTime: true })], {
        undetermined: [{ rule: 'unapproved-ami', reason: 'image ami-0x could not be described', resources: [] }],
      }),
      context: contextWith({ instances: [anInstance()] }),
      policy: policyWith(),
    });
    expect(plan.decision).toBe('contain');
    expect(plan.warnings).toContain('unapproved-ami could not judge this change: image ami-0x could not be described');
    expect(plan.humanActions[0]).toMatch(/^Fix the caller's RunInstances request:/);
  });
});

describe('planResponse: security groups', () => {
  it('revokes only the offending rules, never the whole group, and never isolates', () => {
    const plan = planResponse(scenario('admin-port-open-to-world', 'contain'));
    expect(stepOf(plan.steps, 'revoke-rule')).toEqual([
      expect.objectContaining({ action: 'revoke-rule', resource: 'sg-0abc', rules: [SSH_WORLD], findingId: 'admin-port-open-to-world:evt-1' }),
    ]);
    expect(stepOf(plan.steps, 'isolate-instance')).toEqual([]);
  });

  it('security-group-manual-change in contain mode revokes the added rules', () => {
    const added = { direction: 'ingress' as const, protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '10.0.0.0/8' };
    const plan = planResponse({
      event: sgEvent('sg-0abc', [added], 'e'),
      classification: classification([sgFinding('security-group-manual-change', 'e', 'sg-0abc', [added])]),
      context: contextWith({ groups: [aGroup()] }),
      policy: withModes({ 'security-group-manual-change': 'contain' }),
    });
    expect(stepOf(plan.steps, 'revoke-rule')[0].rules).toEqual([added]);
  });

  it('a removal has nothing to revoke: observed, with a warning', () => {
    const finding = { ...sgFinding('security-group-manual-change', 'e'), offendingRules: [] };
    const plan = planResponse({ event: sgEvent('sg-0abc', [], 'e'), classification: classification([finding]), context: contextWith({ groups: [aGroup()] }), policy: withModes({ 'security-group-manual-change': 'contain' }) });
    expect(plan.decision).toBe('observe');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.warnings).toContain('security-group-manual-change is in contain mode but no rule was added, so there is nothing to revoke: observed.');
  });

  it('fails closed when the group cannot be read (its tags hold exemptions and the quarantine mark)', () => {
    const plan = planResponse({
      event: sgEvent('sg-0abc', [SSH_WORLD], 'e'),
      classification: classification([sgFinding('admin-port-open-to-world', 'e')]),
      context: contextWith({ lookups: { securityGroups: { 'sg-0abc': unknown('RequestLimitExceeded') } } }),
      policy: policyWith(),
    });
    expect(plan.decision).toBe('held');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.warnings).toContain('Held: cannot read security group sg-0abc (RequestLimitExceeded).');
  });
});

describe('planResponse: one plan per event, findings merged', () => {
  it('one event breaking two rules on one instance: one plan, one isolate, the strongest mode', () => {
    const event = instanceEvent(['i-0aaa'], 'e', 'shell-access');
    const plan = planResponse({
      event,
      classification: classification([instanceFinding('instance-manual-change', 'e'), instanceFinding('shell-access', 'e')]),
      context: contextWith({ instances: [inStack()] }),
      policy: withModes({ 'instance-manual-change': 'contain', 'shell-access': 'replace' }),
    });
    expect(plan.decision).toBe('replace');
    expect(plan.mode).toBe('replace');
    expect(actions(plan.steps)).toEqual(['isolate-instance', 'snapshot-volumes', 'tag', 'notify', 'replace', 'terminate']);
    expect(plan.findings).toHaveLength(2);
    expect(plan.resources).toEqual([{ type: 'instance', id: 'i-0aaa' }]);
  });

  it('two findings on one group merge into one revoke, rules de-duplicated by rule id or by value', () => {
    const event = sgEvent('sg-0abc', [SSH_WORLD, RDP_WORLD], 'e');
    const plan = planResponse({
      event,
      classification: classification([
        sgFinding('admin-port-open-to-world', 'e', 'sg-0abc', [SSH_WORLD, RDP_WORLD]),
        sgFinding('security-group-manual-change', 'e', 'sg-0abc', [SSH_WORLD, RDP_WORLD, { ...RDP_WORLD }]),
      ]),
      context: contextWith({ groups: [aGroup()] }),
      policy: withModes({ 'security-group-manual-change': 'contain' }),
    });
    const revokes = stepOf(plan.steps, 'revoke-rule');
    expect(revokes).toHaveLength(1);
    expect(revokes[0].rules).toEqual([SSH_WORLD, RDP_WORLD]);
    expect(revokes[0].findingId).toBe('admin-port-open-to-world:e');
    expect(stepOf(plan.steps, 'notify')).toHaveLength(1);
  });

  it('severity is the highest among findings; warnings include trust warnings', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('ssh-key-material', 'e'), { ...instanceFinding('driftwarden-tamper', 'e'), resources: [] }], {
        trust: { trusted: false, reason: 'untrusted', self: false, warnings: ['weak trust'] },
      }),
      context: contextWith({ instances: [anInstance()] }),
      policy: policyWith(),
    });
    expect(plan.severity).toBe('CRITICAL');
    expect(stepOf(plan.steps, 'notify')[0].severity).toBe('CRITICAL');
    expect(plan.warnings).toContain('weak trust');
  });
});

describe('planResponse: instances', () => {
  it('hands the isolate step what the context read knows (attributes, driftwarden tags), so the executor need not read again', () => {
    const input = scenario('shell-access', 'contain');
    const read = input.context.instances['i-0aaa'];
    if (read?.status !== 'found') throw new Error('the scenario reads i-0aaa');
    read.value.terminationProtection = true;
    read.value.shutdownBehavior = 'terminate';
    read.value.tags = { ...read.value.tags, 'driftwarden:original-groups': '{"eni-0aaa-0":["sg-0web"]}', Name: 'web' };
    const isolate = stepOf(planResponse(input).steps, 'isolate-instance')[0];
    expect(isolate).toMatchObject({ terminationProtection: true, shutdownBehavior: 'terminate' });
    // Only driftwarden's own tags travel with the step (an earlier isolation's record).
    expect(isolate.driftwardenTags).toEqual({ 'driftwarden:original-groups': '{"eni-0aaa-0":["sg-0web"]}' });
  });

  it('isolation records every interface with its groups, snapshots every volume, tags with the finding id', () => {
    const plan = planResponse(scenario('shell-access', 'contain'));
    expect(stepOf(plan.steps, 'isolate-instance')[0]).toEqual(
      expect.objectContaining({
        resource: 'i-0aaa',
        vpcId: 'vpc-0123',
        forensicHold: true,
        networkInterfaces: [
          { networkInterfaceId: 'eni-0aaa-0', groups: ['sg-0web', 'sg-0ops'] },
          { networkInterfaceId: 'eni-0aaa-1', groups: ['sg-0db'] },
        ],
      }),
    );
    expect(stepOf(plan.steps, 'snapshot-volumes')[0].volumeIds).toEqual(['vol-0aaa-root', 'vol-0aaa-data']);
    const tags = stepOf(plan.steps, 'tag')[0].tags;
    expect(tags['driftwarden:quarantined']).toBe('shell-access:evt-1');
    expect(tags['driftwarden:reason']).toContain('shell-access');
  });

  it('replaces a standalone stack instance by a stack update with a valid token, then terminates after the hold', () => {
    const plan = planResponse(scenario('instance-manual-change', 'replace'));
    expect(stepOf(plan.steps, 'replace')[0]).toEqual(
      expect.objectContaining({ via: 'stack', stackName: 'web-stack', clientRequestToken: 'driftwarden-instance-manual-change-evt-1' }),
    );
    expect(stepOf(plan.steps, 'terminate')[0]).toEqual(expect.objectContaining({ when: 'after-replacement', holdSeconds: 86_400, force: false }));
    expect(stepOf(plan.steps, 'detach')).toEqual([]);
  });

  it('replaces an Auto Scaling member through its group (detach keeps capacity), never by a stack update', () => {
    const event = instanceEvent(['i-0aaa'], 'e');
    const plan = planResponse({ event, classification: classification([instanceFinding('instance-manual-change', 'e')]), context: contextWith({ instances: [inAutoScaling()] }), policy: policyWith() });
    expect(plan.decision).toBe('replace');
    expect(actions(plan.steps)).toEqual(['isolate-instance', 'snapshot-volumes', 'tag', 'detach', 'notify', 'replace', 'terminate']);
    expect(stepOf(plan.steps, 'detach')[0]).toEqual(
      expect.objectContaining({ autoScalingGroup: 'web-asg', targetGroupArns: ['arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef'] }),
    );
    const replace = stepOf(plan.steps, 'replace')[0];
    expect(replace).toEqual(expect.objectContaining({ via: 'auto-scaling-group', autoScalingGroup: 'web-asg' }));
    expect(replace.stackName).toBeUndefined();
    expect(stepOf(plan.steps, 'terminate')[0].when).toBe('after-replacement');
  });

  it('contain mode takes an instance out of its target groups but leaves it in its Auto Scaling group', () => {
    const plan = planResponse({ event: instanceEvent(['i-0aaa'], 'e'), classification: classification([instanceFinding('instance-manual-change', 'e')]), context: contextWith({ instances: [inAutoScaling()] }), policy: withModes({ 'instance-manual-change': 'contain' }) });
    const detach = stepOf(plan.steps, 'detach')[0];
    expect(detach.autoScalingGroup).toBeUndefined();
    expect(detach.targetGroupArns).toHaveLength(1);
    expect(stepOf(plan.steps, 'replace')).toEqual([]);
  });

  it('an instance in no stack and no group cannot be replaced: contained, and a human is asked', () => {
    const plan = planResponse({ event: instanceEvent(['i-0aaa'], 'e'), classification: classification([instanceFinding('instance-manual-change', 'e')]), context: contextWith({ instances: [anInstance()] }), policy: policyWith() });
    expect(plan.decision).toBe('contain');
    expect(actions(plan.steps)).toEqual(['isolate-instance', 'snapshot-volumes', 'tag', 'notify']);
    expect(plan.humanActions[0]).toMatch(/^cannot replace: i-0aaa is not in a CloudFormation stack or Auto Scaling group/);
  });

  it('launch-time findings are contained, never replaced, and name their source to fix', () => {
    const event = instanceEvent(['i-0aaa'], 'e', 'instance-launch');
    const plan = planResponse({
      event,
      classification: classification([
        instanceFinding('unapproved-ami', 'e', ['i-0aaa'], { launchTime: true, launchSource: 'launch template lt-0abc (version 3)' }),
        instanceFinding('shell-access', 'e'),
      ]),
      context: contextWith({ instances: [inAutoScaling()] }),
      policy: withModes({ 'unapproved-ami': 'replace', 'shell-access': 'replace' }),
    });
    expect(plan.decision).toBe('contain');
    expect(stepOf(plan.steps, 'replace')).toEqual([]);
    expect(stepOf(plan.steps, 'terminate')).toEqual([]);
    expect(stepOf(plan.steps, 'detach')[0].autoScalingGroup).toBeUndefined();
    expect(plan.humanActions.some((a) => a.startsWith('Fix launch template lt-0abc (version 3):'))).toBe(true);
  });

  it("fails closed when the instance cannot be read: held, no mutating step, and says what", () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ lookups: { instances: { 'i-0aaa': unknown('AccessDenied: ec2:DescribeInstances') } } }),
      policy: policyWith(),
    });
    expect(plan.decision).toBe('held');
    expect(plan.mode).toBe('replace');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.steps[0].reason).toContain('cannot read instance i-0aaa (AccessDenied: ec2:DescribeInstances)');
  });

  it('groups an instance finding merely mentions are not needed: an unreadable one does not hold it', () => {
    const finding = { ...instanceFinding('instance-manual-change', 'e'), resources: [{ type: 'instance' as const, id: 'i-0aaa' }, { type: 'security-group' as const, id: 'sg-0new' }] };
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([finding]),
      context: contextWith({ instances: [inStack()], lookups: { securityGroups: { 'sg-0new': unknown('throttled') } } }),
      policy: policyWith(),
    });
    expect(plan.decision).toBe('replace');
  });

  it('an unknown instance does not hold an observe-only rule', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ lookups: { instances: { 'i-0aaa': unknown('throttled') } } }),
      policy: withModes({ 'instance-manual-change': 'observe' }),
    });
    expect(plan.decision).toBe('observe');
  });

  it.each([
    ['gone', notFound<InstanceContext>(), 'Instance i-0aaa is gone (not found): nothing to contain.'],
    ['terminated', found(anInstance('i-0aaa', { state: 'terminated' })), 'Instance i-0aaa is terminated: nothing to contain.'],
  ])('an instance that is %s needs nothing: observed with a warning', (_label, lookup, warning) => {
    const plan = planResponse({ event: instanceEvent(['i-0aaa'], 'e'), classification: classification([instanceFinding('shell-access', 'e')]), context: contextWith({ lookups: { instances: { 'i-0aaa': lookup } } }), policy: policyWith() });
    expect(plan.decision).toBe('observe');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.warnings).toContain(warning);
  });

  it('with no forensic hold: no hold on isolation; a stack instance still waits for its replacement to be in service', () => {
    const input = scenario('shell-access', 'replace');
    const plan = planResponse({ ...input, policy: withModes({ 'shell-access': 'replace' }, { forensicHold: { duration: 0, force: true } }) });
    expect(stepOf(plan.steps, 'isolate-instance')[0].forensicHold).toBe(false);
    // A stack update can roll back: the old instance goes only when the watcher sees the new one in service.
    expect(stepOf(plan.steps, 'terminate')[0]).toEqual(expect.objectContaining({ when: 'after-replacement', holdSeconds: 0, force: true }));
  });

  it('with no forensic hold: an Auto Scaling member is terminated at once (its group keeps the capacity)', () => {
    const event = instanceEvent(['i-0aaa'], 'e');
    const plan = planResponse({
      event,
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ instances: [inAutoScaling()] }),
      policy: withModes({ 'instance-manual-change': 'replace' }, { forensicHold: { duration: 0, force: false } }),
    });
    expect(stepOf(plan.steps, 'terminate')[0]).toEqual(expect.objectContaining({ when: 'now', holdSeconds: 0 }));
  });

  it('several instances in one event: each isolated once', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa', 'i-0bbb'], 'e', 'shell-access'),
      classification: classification([instanceFinding('shell-access', 'e', ['i-0aaa', 'i-0bbb']), instanceFinding('instance-manual-change', 'e', ['i-0bbb'])]),
      context: contextWith({ instances: [anInstance('i-0aaa'), anInstance('i-0bbb')] }),
      policy: withModes({ 'shell-access': 'contain', 'instance-manual-change': 'contain' }),
    });
    expect(stepOf(plan.steps, 'isolate-instance').map((s) => s.resource)).toEqual(['i-0aaa', 'i-0bbb']);
    expect(actions(plan.steps)).toEqual(['isolate-instance', 'isolate-instance', 'snapshot-volumes', 'snapshot-volumes', 'tag', 'tag', 'notify']);
  });
});

describe('planResponse: quarantine and exemptions', () => {
  const exemptTags = { 'driftwarden:exempt-until': '2026-03-11T00:00:00Z', 'driftwarden:exempt-reason': 'INC-42' };
  const breakGlass = found({ arn: 'arn:aws:iam::111122223333:role/break-glass-oncall', time: '2026-03-10T09:00:00Z' });
  const exemptPolicy = policyWith({ exemptions: { setters: ['arn:aws:iam::111122223333:role/break-glass-*'] } });

  it('changes to a quarantined resource never trigger actions', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ instances: [inStack('i-0aaa', { tags: { 'driftwarden:quarantined': 'shell-access:earlier' } })] }),
      policy: policyWith(),
    });
    expect(plan.decision).toBe('quarantined');
    expect(plan.steps).toEqual([]);
  });

  it("this event's own quarantine mark (a redelivery or a replay) does not stop it: the same plan again", () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ instances: [inStack('i-0aaa', { tags: { 'driftwarden:quarantined': 'instance-manual-change:e' } })] }),
      policy: policyWith(),
    });
    expect(plan.decision).toBe('replace');
    expect(stepOf(plan.steps, 'tag')[0].tags['driftwarden:quarantined']).toBe('instance-manual-change:e');
  });

  it('uses the policy quarantine tag', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ instances: [inStack('i-0aaa', { tags: { 'driftwarden:quarantined': 'old' } })] }),
      policy: policyWith({ quarantineTag: 'sec:quarantine' }),
    });
    expect(plan.decision).toBe('replace');
    expect(stepOf(plan.steps, 'tag')[0].tags).toEqual(expect.objectContaining({ 'sec:quarantine': 'instance-manual-change:e' }));
  });

  it('tampering is acted on even on a quarantined resource (the quarantine mark is put back, nothing is isolated)', () => {
    const tamper: Finding = { id: 'driftwarden-tamper:e', rule: 'driftwarden-tamper', severity: 'CRITICAL', summary: 'DeleteTags driftwarden:quarantined on i-0aaa', resources: [{ type: 'instance', id: 'i-0aaa' }] };
    const plan = planResponse({
      event: anEvent({ kind: 'control', service: 'tags', tagKeys: ['driftwarden:quarantined'], resourceIds: ['i-0aaa'] }, { id: 'e', eventName: 'DeleteTags' }),
      classification: classification([tamper]),
      context: contextWith({ instances: [anInstance('i-0aaa', { tags: { 'driftwarden:quarantined': 'x' } })] }),
      policy: policyWith(),
    });
    expect(plan.decision).toBe('contain');
    expect(actions(plan.steps)).toEqual(['revert-tags', 'notify']);
    expect(stepOf(plan.steps, 'notify')[0].severity).toBe('CRITICAL');
  });

  it('a valid exemption: exempt, notified only', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ instances: [inStack('i-0aaa', { tags: exemptTags })], writers: { 'i-0aaa': breakGlass } }),
      policy: exemptPolicy,
    });
    expect(plan.decision).toBe('exempt');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.warnings).toContain('i-0aaa is exempt until 2026-03-11T00:00:00.000Z (set by arn:aws:iam::111122223333:role/break-glass-oncall: INC-42).');
  });

  it('an exemption whose setter cannot be read: held (fail closed), no mutating step', () => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ instances: [inStack('i-0aaa', { tags: exemptTags })], writers: { 'i-0aaa': unknown('CloudTrail throttled') } }),
      policy: exemptPolicy,
    });
    expect(plan.decision).toBe('held');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.warnings.some((w) => w.includes('CloudTrail throttled'))).toBe(true);
  });

  it.each([
    ['malformed', { 'driftwarden:exempt-until': 'next week' }, breakGlass],
    ['expired', { 'driftwarden:exempt-until': '2026-03-01T00:00:00Z' }, breakGlass],
    ['set by an unauthorized principal', exemptTags, found({ arn: 'arn:aws:iam::111122223333:user/mallory', time: '2026-03-10T09:00:00Z' })],
  ])('a %s exemption is ignored with a warning: enforced', (_label, tags, writer) => {
    const plan = planResponse({
      event: instanceEvent(['i-0aaa'], 'e'),
      classification: classification([instanceFinding('instance-manual-change', 'e')]),
      context: contextWith({ instances: [inStack('i-0aaa', { tags })], writers: { 'i-0aaa': writer } }),
      policy: exemptPolicy,
    });
    expect(plan.decision).toBe('replace');
    expect(plan.warnings.some((w) => w.startsWith('Ignored exemption on i-0aaa'))).toBe(true);
  });
});

describe('planResponse: switches', () => {
  it('dry-run comes from the policy or the caller, and keeps the planned steps for the record', () => {
    const input = scenario('shell-access', 'replace');
    expect(planResponse(input).dryRun).toBe(false);
    expect(planResponse({ ...input, dryRun: true }).dryRun).toBe(true);
    const fromPolicy = planResponse({ ...input, policy: withModes({ 'shell-access': 'replace' }, { dryRun: true }) });
    expect(fromPolicy.dryRun).toBe(true);
    expect(actions(fromPolicy.steps)).toContain('isolate-instance');
  });

  it('forceObserve turns every mode to observe and says why', () => {
    const input = scenario('shell-access', 'replace');
    const plan = planResponse({ ...input, overrides: { forceObserve: 'Kill switch engaged (/driftwarden/kill-switch = on): observing only.' } });
    expect(plan.decision).toBe('observe');
    expect(actions(plan.steps)).toEqual(['notify']);
    expect(plan.warnings).toContain('Kill switch engaged (/driftwarden/kill-switch = on): observing only.');
  });
});

describe('durationSeconds and replacementToken', () => {
  it.each([
    [24, 86_400],
    [0.5, 1_800],
    ['PT24H', 86_400],
    ['P2D', 172_800],
    ['P1DT2H30M15S', 95_415],
    ['PT0S', 0],
  ])('%p is %p seconds', (duration, seconds) => {
    expect(durationSeconds(duration)).toBe(seconds);
  });

  it('rejects what is not a duration', () => {
    expect(() => durationSeconds('24h')).toThrow('forensicHold.duration must be an ISO-8601 duration such as PT24H or P2D (got "24h")');
  });

  it('tokens are valid for CloudFormation, stable, and distinct when long ids share a prefix', () => {
    expect(replacementToken('shell-access:config:i-0abc:1234')).toBe('driftwarden-shell-access-config-i-0abc-1234');
    const long = (suffix: string) => `instance-manual-change:${'x'.repeat(150)}${suffix}`;
    const a = replacementToken(long('a'));
    const b = replacementToken(long('b'));
    for (const token of [a, b]) expect(token).toMatch(/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/);
    expect(a).not.toBe(b);
    expect(replacementToken(long('a'))).toBe(a);
  });
});

describe('planResponse: properties', () => {
  const ruleArb = fc.constantFrom(...RULE_IDS);
  const modeArb = fc.constantFrom(...MODES);
  const instanceIdArb = fc.constantFrom('i-0aaa', 'i-0bbb', 'i-0ccc');
  const groupIdArb = fc.constantFrom('sg-0abc', 'sg-0def');
  const findingArb = fc.record({
    rule: ruleArb,
    onInstance: fc.boolean(),
    instances: fc.uniqueArray(instanceIdArb, { minLength: 1, maxLength: 3 }),
    group: groupIdArb,
    launchTime: fc.boolean(),
    rules: fc.subarray([SSH_WORLD, RDP_WORLD]),
  });
  const instanceLookupArb = fc.constantFrom('stack', 'asg', 'standalone', 'unknown', 'gone', 'terminated', 'quarantined');

  it('steps always follow STEP_ORDER, at most one notify, one isolate per instance, and no mutating step unless containing or replacing', () => {
    fc.assert(
      fc.property(
        fc.array(findingArb, { maxLength: 5 }),
        fc.dictionary(ruleArb, modeArb),
        fc.record({ 'i-0aaa': instanceLookupArb, 'i-0bbb': instanceLookupArb, 'i-0ccc': instanceLookupArb }),
        fc.boolean(),
        (specs, modes, lookups, forced) => {
          const findings: Finding[] = specs.map((s, i) =>
            s.onInstance
              ? instanceFinding(s.rule, `e${i}`, s.instances, s.launchTime ? { launchTime: true, launchSource: 'lt-0abc' } : {})
              : sgFinding(s.rule, `e${i}`, s.group, s.rules),
          );
          const build = (id: string, kind: string) =>
            kind === 'unknown'
              ? unknown<ReturnType<typeof anInstance>>('throttled')
              : kind === 'gone'
                ? notFound<ReturnType<typeof anInstance>>()
                : found(
                    kind === 'stack'
                      ? inStack(id)
                      : kind === 'asg'
                        ? inAutoScaling(id)
                        : kind === 'terminated'
                          ? anInstance(id, { state: 'terminated' })
                          : kind === 'quarantined'
                            ? anInstance(id, { tags: { 'driftwarden:quarantined': 'x' } })
                            : anInstance(id),
                  );
          const context = contextWith({
            groups: [aGroup('sg-0abc'), aGroup('sg-0def')],
            lookups: { instances: Object.fromEntries(Object.entries(lookups).map(([id, kind]) => [id, build(id, kind)])) },
          });
          const plan = planResponse({
            event: instanceEvent(['i-0aaa'], 'evt'),
            classification: classification(findings),
            context,
            policy: withModes(modes),
            ...(forced ? { overrides: { forceObserve: 'limit reached' } } : {}),
          });
          const order = plan.steps.map((s) => STEP_ORDER.indexOf(s.action));
          expect(order).toEqual([...order].sort((a, b) => a - b));
          expect(stepOf(plan.steps, 'notify').length).toBeLessThanOrEqual(1);
          const isolated = stepOf(plan.steps, 'isolate-instance').map((s) => s.resource);
          expect(new Set(isolated).size).toBe(isolated.length);
          const mutating = plan.steps.filter((s) => s.action !== 'notify');
          if (!['contain', 'replace'].includes(plan.decision)) expect(mutating).toEqual([]);
          if (forced) expect(mutating).toEqual([]);
          expect(DECISIONS).toContain(plan.decision);
          for (const step of plan.steps) expect(step.reason).not.toBe('');
        },
      ),
      { numRuns: 300 },
    );
  });
});
