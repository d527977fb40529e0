import { StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { StartConfigurationRecorderCommand } from '@aws-sdk/client-config-service';
import { PublishCommand } from '@aws-sdk/client-sns';
import { executePlan } from '../../../functions/aws/executor';
import { run } from '../../../functions/aws/steps/restore-logging';
import type { Plan, RestoreLoggingStep } from '../../../functions/core/decision';
import { defaultPolicy } from '../../../functions/core/policy/schema';
import { ACCOUNT, REGION, TOPIC, awsError, event, finding, fixedNow, mocks, noSleep, plan, sentCalls, stepContext, testClients, type Mocks } from '../fixtures';

const TRAIL = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/organization-trail`;
const FINDING_ID = 'driftwarden-tamper:evt-0001';

const restart = (overrides: Partial<RestoreLoggingStep> = {}): RestoreLoggingStep => ({
  action: 'restore-logging',
  service: 'cloudtrail',
  resource: TRAIL,
  reason: 'bob stopped logging',
  findingId: FINDING_ID,
  ...overrides,
});

const tamperPlan = (step: RestoreLoggingStep): Plan =>
  plan([step, { action: 'notify', resource: step.resource, reason: 'Reverted', findingId: FINDING_ID, severity: 'CRITICAL' }], {
    findings: [finding({ id: FINDING_ID, rule: 'driftwarden-tamper', summary: `bob stopped CloudTrail logging on ${TRAIL}`, resources: [{ type: 'other', id: TRAIL }] })],
    resources: [{ type: 'other', id: TRAIL }],
  });

describe('restore-logging', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  it('StopLogging → StartLogging with the trail ARN the event named', async () => {
    m.cloudTrail.on(StartLoggingCommand).resolves({});
    const step = restart();
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(m.cloudTrail).toHaveReceivedCommandTimes(StartLoggingCommand, 1);
    expect(m.cloudTrail).toHaveReceivedCommandWith(StartLoggingCommand, { Name: TRAIL });
    expect(m.configService).not.toHaveReceivedCommand(StartConfigurationRecorderCommand);
    expect(outcome).toMatchObject({ action: 'restore-logging', resource: TRAIL, status: 'done', detail: `started CloudTrail logging on ${TRAIL}` });
  });

  it('StopConfigurationRecorder → StartConfigurationRecorder with the recorder name', async () => {
    m.configService.on(StartConfigurationRecorderCommand).resolves({});
    const step = restart({ service: 'config', resource: 'default' });
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(m.configService).toHaveReceivedCommandWith(StartConfigurationRecorderCommand, { ConfigurationRecorderName: 'default' });
    expect(m.cloudTrail).not.toHaveReceivedCommand(StartLoggingCommand);
    expect(outcome.status).toBe('done');
  });

  it('a deleted trail: failed, and the detail says to recreate it', async () => {
    m.cloudTrail.on(StartLoggingCommand).rejects(awsError('TrailNotFoundException'));
    const step = restart();
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'TrailNotFoundException' });
    expect(outcome.detail).toContain('recreate it from its template');
  });

  it('a recorder without a delivery channel: failed, and the detail names the channel', async () => {
    m.configService.on(StartConfigurationRecorderCommand).rejects(awsError('NoAvailableDeliveryChannelException'));
    const step = restart({ service: 'config', resource: 'default' });
    const outcome = await run(step, stepContext(testClients(), tamperPlan(step)));
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'NoAvailableDeliveryChannelException' });
    expect(outcome.detail).toContain('recreate the channel');
  });

  it('a client set without AWS Config fails clearly instead of acting elsewhere', async () => {
    const step = restart({ service: 'config', resource: 'default' });
    const clients = testClients();
    const withoutConfig = { ec2: clients.ec2, autoScaling: clients.autoScaling, elbv2: clients.elbv2, cloudFormation: clients.cloudFormation, sns: clients.sns, ssm: clients.ssm, cloudTrail: clients.cloudTrail };
    const outcome = await run(step, stepContext(withoutConfig, tamperPlan(step)));
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'NoConfigClient' });
    expect(sentCalls(m)).toEqual([]);
  });

  describe('in the executor', () => {
    const deps = (mutate: boolean) => ({ clients: testClients(), event: event(), policy: defaultPolicy(), mutate, notify: true, topicArn: TOPIC, now: fixedNow, sleep: noSleep });

    it('dry run: StartLogging is not sent', async () => {
      m.sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
      const result = await executePlan(tamperPlan(restart()), deps(false));
      expect(m.cloudTrail).not.toHaveReceivedCommand(StartLoggingCommand);
      expect(result.outcomes[0]).toMatchObject({ action: 'restore-logging', status: 'skipped', detail: 'dry run: no call sent' });
    });

    it('a failed restart is a failed outcome, and the alert says so', async () => {
      m.cloudTrail.on(StartLoggingCommand).rejects(awsError('AccessDeniedException'));
      m.sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
      const result = await executePlan(tamperPlan(restart()), deps(true));
      expect(result.outcomes[0]).toMatchObject({ action: 'restore-logging', status: 'failed', errorName: 'AccessDeniedException' });
      const message = JSON.parse(m.sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!) as { email: string };
      expect(message.email).toContain(`FAILED: restore-logging ${TRAIL}`);
    });
  });
});
