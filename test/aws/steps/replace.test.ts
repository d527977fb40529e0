import { DescribeStacksCommand, UpdateStackCommand, type Stack, type StackStatus } from '@aws-sdk/client-cloudformation';
import { REPLACEMENT_PARAMETER, replacementToken, run } from '../../../functions/aws/steps/replace';
import type { StepOutcome } from '../../../functions/core/decision';
import { ASG, INSTANCE, INSTANCE_FINDING_ID, STACK, STACK_ID, STACK_ROLE, awsError, mocks, plan, stepContext, steps, testClients, type Mocks } from '../fixtures';

const stack = (overrides: Partial<Stack> = {}): Stack => ({
  StackName: STACK,
  StackId: STACK_ID,
  StackStatus: 'UPDATE_COMPLETE' as StackStatus,
  CreationTime: new Date('2026-01-01T00:00:00Z'),
  RoleARN: STACK_ROLE,
  Capabilities: ['CAPABILITY_IAM' as const],
  Parameters: [
    { ParameterKey: 'InstanceType', ParameterValue: 't3.micro' },
    { ParameterKey: REPLACEMENT_PARAMETER, ParameterValue: 'initial' },
    { ParameterKey: 'ImageId', ParameterValue: 'ami-0123456789abcdef0' },
  ],
  ...overrides,
});

describe('replace', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));
  const replace = (step = steps.replaceStack(), outcomes: StepOutcome[] = []) => run(step, stepContext(testClients(), plan([step]), { outcomes }));

  it('updates the stack with the previous template, a new token and every other parameter unchanged, as its service role', async () => {
    m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack()] });
    m.cloudFormation.on(UpdateStackCommand).resolves({ StackId: STACK_ID });
    const outcome = await replace();
    expect(m.cloudFormation).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: STACK });
    expect(m.cloudFormation.commandCalls(UpdateStackCommand)[0]!.args[0].input).toEqual({
      StackName: STACK_ID,
      UsePreviousTemplate: true,
      Parameters: [
        { ParameterKey: 'InstanceType', UsePreviousValue: true },
        { ParameterKey: REPLACEMENT_PARAMETER, ParameterValue: replacementToken(INSTANCE_FINDING_ID) },
        { ParameterKey: 'ImageId', UsePreviousValue: true },
      ],
      Capabilities: ['CAPABILITY_IAM'],
      RoleARN: STACK_ROLE,
      ClientRequestToken: 'driftwarden-evt-0002',
    });
    expect(replacementToken(INSTANCE_FINDING_ID)).not.toBe('initial');
    expect(outcome.status).toBe('done');
  });

  it('defers while the stack is busy, and sends no update', async () => {
    m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack({ StackStatus: 'UPDATE_IN_PROGRESS' as StackStatus })] });
    const outcome = await replace();
    expect(outcome.status).toBe('deferred');
    expect(outcome.detail).toContain('stack busy: retry later');
    expect(m.cloudFormation).not.toHaveReceivedCommand(UpdateStackCommand);
  });

  it('reports "No updates are to be performed" as already done, with that detail', async () => {
    m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack()] });
    m.cloudFormation.on(UpdateStackCommand).rejects(awsError('ValidationError', 'No updates are to be performed.'));
    const outcome = await replace();
    expect(outcome.status).toBe('already-done');
    expect(outcome.detail).toContain('No updates are to be performed');
  });

  it('fails "cannot replace" when the stack does not exist', async () => {
    m.cloudFormation.on(DescribeStacksCommand).rejects(awsError('ValidationError', `Stack with id ${STACK} does not exist`));
    const outcome = await replace();
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toContain('cannot replace');
  });

  it('fails when the stack does not follow the replacement contract', async () => {
    m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack({ Parameters: [{ ParameterKey: 'InstanceType', ParameterValue: 't3.micro' }] })] });
    const outcome = await replace();
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toContain('stack does not follow the replacement contract');
    expect(m.cloudFormation).not.toHaveReceivedCommand(UpdateStackCommand);
  });

  it('omits RoleARN for a stack without a service role', async () => {
    m.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [stack({ RoleARN: undefined })] });
    m.cloudFormation.on(UpdateStackCommand).resolves({ StackId: STACK_ID });
    await replace();
    expect(m.cloudFormation.commandCalls(UpdateStackCommand)[0]!.args[0].input.RoleARN).toBeUndefined();
  });

  it('leaves an Auto Scaling member to its group: no stack update', async () => {
    const outcome = await replace(steps.replaceAsg(), [{ action: 'detach', resource: INSTANCE, status: 'done', detail: 'detached' }]);
    expect(outcome.status).toBe('done');
    expect(outcome.detail).toContain(`replaced by its Auto Scaling group ${ASG}`);
    expect(m.cloudFormation.calls()).toHaveLength(0);
  });

  it('does not claim a group replacement when the detach failed', async () => {
    const outcome = await replace(steps.replaceAsg(), [{ action: 'detach', resource: INSTANCE, status: 'failed', detail: 'AccessDenied', errorName: 'AccessDenied' }]);
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'AccessDenied' });
  });
});
