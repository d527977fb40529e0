import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { executePlan } from '../../../functions/aws/executor';
import { MUTATING_COMMANDS } from '../../../functions/aws/iam';
import { run } from '../../../functions/aws/steps/revert-tags';
import type { Plan, RevertTagsStep } from '../../../functions/core/decision';
import { defaultPolicy } from '../../../functions/core/policy/schema';
import { INSTANCE, TOPIC, awsError, event, finding, fixedNow, mocks, noSleep, plan, sentCalls, stepContext, testClients, type Mocks } from '../fixtures';

const FINDING_ID = 'driftwarden-tamper:evt-0001';

const revert = (overrides: Partial<RevertTagsStep> = {}): RevertTagsStep => ({
  action: 'revert-tags',
  resource: INSTANCE,
  reason: 'alice changed driftwarden tags',
  findingId: FINDING_ID,
  remove: [],
  restore: [],
  ...overrides,
});

const tamperPlan = (step: RevertTagsStep, overrides: Partial<Plan> = {}): Plan =>
  plan([step, { action: 'notify', resource: INSTANCE, reason: 'Reverted', findingId: FINDING_ID, severity: 'CRITICAL' }], {
    findings: [finding({ id: FINDING_ID, rule: 'driftwarden-tamper', summary: `alice removed driftwarden tag driftwarden:quarantined from ${INSTANCE}`, resources: [{ type: 'instance', id: INSTANCE }] })],
    resources: [{ type: 'instance', id: INSTANCE }],
    ...overrides,
  });

describe('revert-tags', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  it('puts back the quarantine mark alice deleted, with its exact value, and deletes nothing', async () => {
    m.ec2.on(CreateTagsCommand).resolves({});
    const step = revert({ restore: [{ key: 'driftwarden:quarantined', value: 'unapproved-ami:evt-9' }] });
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(m.ec2).toHaveReceivedCommandTimes(CreateTagsCommand, 1);
    expect(m.ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: [INSTANCE], Tags: [{ Key: 'driftwarden:quarantined', Value: 'unapproved-ami:evt-9' }] });
    expect(m.ec2).not.toHaveReceivedCommand(DeleteTagsCommand);
    expect(outcome).toMatchObject({ action: 'revert-tags', resource: INSTANCE, status: 'done' });
    expect(outcome.detail).toContain('restored driftwarden:quarantined=unapproved-ami:evt-9');
  });

  it('deletes exactly the exemption key alice added, naming the key (never a DeleteTags that would drop every tag)', async () => {
    m.ec2.on(DeleteTagsCommand).resolves({});
    const step = revert({ remove: ['driftwarden:exempt-until'] });
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(m.ec2).toHaveReceivedCommandTimes(DeleteTagsCommand, 1);
    expect(m.ec2).toHaveReceivedCommandWith(DeleteTagsCommand, { Resources: [INSTANCE], Tags: [{ Key: 'driftwarden:exempt-until' }] });
    const sent = m.ec2.commandCalls(DeleteTagsCommand)[0]!.args[0].input;
    expect(sent.Tags).toEqual([{ Key: 'driftwarden:exempt-until' }]);
    expect(m.ec2).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(outcome.status).toBe('done');
  });

  it('sends no call at all when there is nothing to remove or restore', async () => {
    const step = revert();
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(sentCalls(m)).toEqual([]);
    expect(outcome.status).toBe('already-done');
  });

  it('refuses to touch a tag that is not driftwarden:*, sending nothing', async () => {
    const step = revert({ remove: ['Name'], restore: [{ key: 'driftwarden:quarantined', value: 'x' }] });
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(sentCalls(m)).toEqual([]);
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'NotADriftwardenTag' });
  });

  it('deletes before it restores, so a key in both ends with its old value', async () => {
    m.ec2.on(DeleteTagsCommand).resolves({});
    m.ec2.on(CreateTagsCommand).resolves({});
    const step = revert({ remove: ['driftwarden:exempt-until'], restore: [{ key: 'driftwarden:quarantined', value: 'q' }] });
    await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(sentCalls(m).map((c) => c.command)).toEqual(['DeleteTagsCommand', 'CreateTagsCommand']);
  });

  it('a resource that is gone has nothing left to revert', async () => {
    m.ec2.on(CreateTagsCommand).rejects(awsError('InvalidInstanceID.NotFound'));
    const step = revert({ restore: [{ key: 'driftwarden:quarantined', value: 'q' }] });
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(outcome.status).toBe('already-done');
  });

  it('reports a denied call as a failed outcome with the AWS error name', async () => {
    m.ec2.on(CreateTagsCommand).rejects(awsError('UnauthorizedOperation', 'not authorized to perform ec2:CreateTags'));
    const step = revert({ restore: [{ key: 'driftwarden:quarantined', value: 'q' }] });
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(outcome).toMatchObject({ action: 'revert-tags', status: 'failed', errorName: 'UnauthorizedOperation' });
    expect(outcome.detail).toContain(`could not restore driftwarden:quarantined on ${INSTANCE}`);
  });

  describe('in the executor', () => {
    const deps = (mutate: boolean) => ({ clients: testClients(), event: event(), policy: defaultPolicy(), mutate, notify: true, topicArn: TOPIC, now: fixedNow, sleep: noSleep });

    it('runs as containment, before the alert is published', async () => {
      m.ec2.on(CreateTagsCommand).resolves({});
      m.sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
      const result = await executePlan(tamperPlan(revert({ restore: [{ key: 'driftwarden:quarantined', value: 'q' }] })), deps(true));
      expect(sentCalls(m).map((c) => c.command)).toEqual(['CreateTagsCommand', 'PublishCommand']);
      expect(result.containedAt).toBeDefined();
    });

    it('dry run: no call to EC2, the step is skipped', async () => {
      m.sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
      const result = await executePlan(tamperPlan(revert({ remove: ['driftwarden:exempt-until'], restore: [{ key: 'driftwarden:quarantined', value: 'q' }] })), deps(false));
      const mutating = sentCalls(m).filter((c) => (MUTATING_COMMANDS as readonly string[]).includes(c.command) && c.command !== 'PublishCommand');
      expect(mutating).toEqual([]);
      expect(result.outcomes[0]).toMatchObject({ action: 'revert-tags', status: 'skipped', detail: 'dry run: no call sent' });
    });

    it('a failed revert is a failed outcome, and the alert says so', async () => {
      m.ec2.on(CreateTagsCommand).rejects(awsError('UnauthorizedOperation'));
      m.sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
      const result = await executePlan(tamperPlan(revert({ restore: [{ key: 'driftwarden:quarantined', value: 'q' }] })), deps(true));
      expect(result.outcomes[0]).toMatchObject({ action: 'revert-tags', status: 'failed', errorName: 'UnauthorizedOperation' });
      const message = JSON.parse(m.sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!) as { email: string };
      expect(message.email).toContain(`FAILED: revert-tags ${INSTANCE}`);
      expect(message.email).toContain(`Finish by hand: revert-tags ${INSTANCE} failed`);
    });
  });
});
