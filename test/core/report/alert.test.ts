import fc from 'fast-check';
import { buildAlert, ALERT_SCHEMA, MACHINE_PROTOCOLS } from '../../../functions/core/report/alert';
import type { AlertDocument } from '../../../functions/core/report/alert';
import { adminPortFinding, alertInput, containPlan, replaceInput, sgEvent } from './fixtures';

const structure = (message: string) => JSON.parse(message) as Record<string, string>;

describe('buildAlert subject', () => {
  it('names severity, rule, resource, actor and outcome on one line', () => {
    const { subject } = buildAlert(alertInput());
    expect(subject).toBe('[HIGH] admin-port-open-to-world sg-0abc1234 by alice — contained');
  });

  it('stays one line under 100 characters whatever the ids and names look like', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.string({ maxLength: 400 }), fc.constantFrom('response', 'replaced', 'incomplete', 'tamper'), (name, id, kind) => {
        const input = alertInput({
          kind: kind as 'response',
          event: sgEvent({ actor: { type: 'IAMUser', name } }),
          plan: containPlan({ resources: [{ type: 'security-group', id }] }),
        });
        const { subject } = buildAlert(input);
        expect(subject.length).toBeLessThan(100);
        expect(subject).not.toMatch(/[\u0000-\u001f\u007f\u2028\u2029]/);
        expect(subject.startsWith('[HIGH]')).toBe(true);
        // Never a lone surrogate: the subject survives a UTF-8 round trip unchanged.
        expect(Buffer.from(subject, 'utf8').toString('utf8')).toBe(subject);
      }),
    );
  });

  it('keeps the outcome when a long actor name has to be cut', () => {
    const { subject } = buildAlert(alertInput({ event: sgEvent({ actor: { type: 'AssumedRole', name: 'x'.repeat(300) } }) }));
    expect(subject.length).toBeLessThan(100);
    expect(subject.endsWith('— contained')).toBe(true);
  });

  it('says a failed step plainly', () => {
    const { subject } = buildAlert(
      alertInput({ outcomes: [{ action: 'revoke-rule', resource: 'sg-0abc1234', status: 'failed', detail: 'AccessDenied', errorName: 'AccessDenied' }] }),
    );
    expect(subject).toContain('1 step FAILED');
  });
});

describe('buildAlert email body', () => {
  it('gives what, who, when, where, what was done and what is left, in that order', () => {
    const email = structure(buildAlert(alertInput()).message).email;
    const order = ['WHAT:', 'WHO:', 'WHEN:', 'WHERE:', 'WHAT DRIFTWARDEN DID', 'WHAT IS LEFT FOR A HUMAN', 'LINKS', 'RELEASE OR EXEMPT'];
    const positions = order.map((h) => email.indexOf(h));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(email.split('\n')[0]).toBe('WHAT: [HIGH] admin-port-open-to-world: SSH (22/tcp) opened to 0.0.0.0/0 on sg-0abc1234');
  });

  it('names the actor by name, ARN and source IP, and the account and region', () => {
    const email = structure(buildAlert(alertInput()).message).email;
    expect(email).toContain('alice (IAMUser) arn:aws:iam::111122223333:user/alice');
    expect(email).toContain('from 203.0.113.7');
    expect(email).toContain('WHERE: account 111122223333, region eu-west-1');
    expect(email).toContain('WHEN: 2026-11-26T03:04:05Z');
  });

  it('lists failures before successes and repeats them as work left for a human', () => {
    const input = replaceInput([
      { action: 'isolate-instance', resource: 'i-0123456789abcdef0', status: 'done', detail: 'isolated' },
      { action: 'replace', resource: 'i-0123456789abcdef0', status: 'failed', detail: 'ValidationError: no updates', errorName: 'ValidationError' },
    ]);
    const email = structure(buildAlert(input).message).email;
    const did = email.slice(email.indexOf('WHAT DRIFTWARDEN DID'), email.indexOf('WHAT IS LEFT'));
    expect(did.indexOf('FAILED: replace')).toBeGreaterThan(0);
    expect(did.indexOf('FAILED: replace')).toBeLessThan(did.indexOf('done: isolate-instance'));
    const left = email.slice(email.indexOf('WHAT IS LEFT'), email.indexOf('LINKS'));
    expect(left).toContain('Finish by hand: replace i-0123456789abcdef0 failed (ValidationError: no updates)');
  });

  it('warns that NAT gateway or NLB flows may survive isolation only when isolation ran', () => {
    const isolated = structure(
      buildAlert(replaceInput([{ action: 'isolate-instance', resource: 'i-0123456789abcdef0', status: 'done', detail: 'isolated' }])).message,
    ).email;
    expect(isolated).toContain('NAT gateway or NLB may survive isolation');
    const notIsolated = structure(
      buildAlert(replaceInput([{ action: 'isolate-instance', resource: 'i-0123456789abcdef0', status: 'failed', detail: 'Throttling' }])).message,
    ).email;
    expect(notIsolated).not.toContain('NAT gateway or NLB');
  });

  it('links the resource console page and the CloudTrail event, and says how to release and exempt', () => {
    const email = structure(buildAlert(replaceInput([])).message).email;
    expect(email).toContain('https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-0123456789abcdef0');
    expect(email).toContain('https://eu-west-1.console.aws.amazon.com/cloudtrail/home?region=eu-west-1#/events/evt-2');
    expect(email).toContain('driftwarden release i-0123456789abcdef0');
    expect(email).toContain('driftwarden:exempt-until=2026-11-27T03:04:05Z');
    expect(email).toContain('driftwarden:exempt-reason=');
  });

  it('names who may set the exemption when the policy says', () => {
    const input = alertInput({
      exemptions: { tag: 'x:until', reasonTag: 'x:why', setters: ['arn:aws:iam::*:role/breakglass'], maxDurationDays: 3, pipelinePrincipals: ['arn:aws:iam::*:role/deploy'] },
    });
    const email = structure(buildAlert(input).message).email;
    expect(email).toContain('x:until=');
    expect(email).toContain('at most 3 days');
    expect(email).toContain('arn:aws:iam::*:role/deploy, arn:aws:iam::*:role/breakglass');
  });

  it('tells a follow-up what changed since, under the same finding ids', () => {
    const message = buildAlert(alertInput({ kind: 'replaced', details: ['replaced i-old with i-new'] }));
    const email = structure(message.message).email;
    expect(email.split('\n')[0]).toBe('UPDATE: the tainted instance was replaced.');
    expect(email).toContain('replaced i-old with i-new');
    expect(email).toContain('FINDING IDS: admin-port-open-to-world:e1f2a3b4-0000-4000-8000-000000000001');
    expect(message.subject).toContain('— replaced');
  });

  it('says a dry run changed nothing and shows the planned steps as skipped', () => {
    const message = buildAlert(alertInput({ plan: containPlan({ dryRun: true }), outcomes: [] }));
    const email = structure(message.message).email;
    expect(email).toContain('DRY RUN: nothing was changed');
    expect(email).toContain('skipped: revoke-rule sg-0abc1234: dry run, not run');
    expect(message.subject).toContain('dry run, would be contained');
  });
});

describe('buildAlert message structure', () => {
  it('carries default, email, a short sms and the v1 JSON document for every machine protocol', () => {
    const parsed = structure(buildAlert(alertInput()).message);
    expect(parsed.default.split('\n')[0]).toBe('[HIGH] admin-port-open-to-world sg-0abc1234 by alice — contained');
    expect(parsed.default.length).toBeLessThan(parsed.email.length);
    expect(parsed.email).toContain('WHAT DRIFTWARDEN DID');
    expect(parsed.sms.length).toBeLessThanOrEqual(140);
    expect(parsed.sms).not.toContain('\n');
    for (const protocol of MACHINE_PROTOCOLS) expect(parsed[protocol]).toBe(parsed.sqs);
    const doc = JSON.parse(parsed.sqs) as AlertDocument;
    expect(doc.schema).toBe(ALERT_SCHEMA);
    expect(doc).toMatchObject({
      kind: 'response',
      findingIds: ['admin-port-open-to-world:e1f2a3b4-0000-4000-8000-000000000001'],
      severity: 'HIGH',
      rules: ['admin-port-open-to-world'],
      decision: 'contain',
      account: '111122223333',
      region: 'eu-west-1',
      event: { id: 'e1f2a3b4-0000-4000-8000-000000000001', name: 'AuthorizeSecurityGroupIngress', time: '2026-11-26T03:04:05Z', source: 'ec2.amazonaws.com' },
      actor: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', name: 'alice', trusted: false },
      steps: [{ action: 'revoke-rule', resource: 'sg-0abc1234', status: 'done', detail: 'revoked sgr-0123' }],
      links: {
        console: 'https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-0abc1234',
        cloudtrail: 'https://eu-west-1.console.aws.amazon.com/cloudtrail/home?region=eu-west-1#/events/e1f2a3b4-0000-4000-8000-000000000001',
      },
    });
  });

  it('keeps the sms within 140 characters for any actor name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (name) => {
        const sms = structure(buildAlert(alertInput({ event: sgEvent({ actor: { type: 'IAMUser', name } }) })).message).sms;
        expect(sms.length).toBeLessThanOrEqual(140);
        expect(sms).not.toMatch(/[\n\r]/);
      }),
    );
  });

  it('sets filter attributes: severity, first rule, all rules, account, region, action', () => {
    const plan = containPlan({ findings: [adminPortFinding(), adminPortFinding({ id: 'sg:1', rule: 'security-group-manual-change', severity: 'MEDIUM' })] });
    const { attributes } = buildAlert(alertInput({ plan }));
    expect(attributes).toMatchObject({
      severity: { DataType: 'String', StringValue: 'HIGH' },
      rule: { DataType: 'String', StringValue: 'admin-port-open-to-world' },
      rules: { DataType: 'String', StringValue: 'admin-port-open-to-world,security-group-manual-change' },
      account: { DataType: 'String', StringValue: '111122223333' },
      region: { DataType: 'String', StringValue: 'eu-west-1' },
      action: { DataType: 'String', StringValue: 'contain' },
    });
  });

  it('never renders an access key id, in any protocol, the subject or the attributes', () => {
    const key = 'AKIAIOSFODNN7EXAMPLE';
    const temp = 'ASIAY34FZKBOKMUTVV7A';
    const input = alertInput({
      event: sgEvent({ actor: { type: 'IAMUser', name: `alice ${key}`, arn: `arn:aws:iam::111122223333:user/${temp}` } }),
      plan: containPlan({ humanActions: [`rotate ${key}`], warnings: [`seen ${temp}`] }),
      outcomes: [{ action: 'revoke-rule', resource: 'sg-0abc1234', status: 'failed', detail: `denied for ${key}` }],
      details: [`key ${temp}`],
    });
    const alert = buildAlert(input);
    const everything = [alert.subject, alert.message, JSON.stringify(alert.attributes), ...Object.values(structure(alert.message))].join('\n');
    expect(everything).not.toContain(key);
    expect(everything).not.toContain(temp);
    expect(structure(alert.message).email).toContain('[redacted access key]');
  });
});

describe('buildAlert size', () => {
  it('cuts very long step details so the message stays well under the SNS limit', () => {
    const outcomes = Array.from({ length: 20 }, (_, i) => ({
      action: 'revoke-rule' as const,
      resource: `sg-${i}`,
      status: 'failed' as const,
      detail: 'x'.repeat(20000),
    }));
    const { message } = buildAlert(alertInput({ outcomes }));
    expect(Buffer.byteLength(message, 'utf8')).toBeLessThan(256 * 1024);
    const doc = JSON.parse(structure(message).sqs) as AlertDocument;
    expect(doc.steps[0].detail.length).toBeLessThanOrEqual(500);
  });
});
