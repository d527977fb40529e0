import { PublishCommand } from '@aws-sdk/client-sns';
import { run } from '../../../functions/aws/steps/notify';
import { TOPIC, awsError, mocks, plan, stepContext, steps, testClients, type Mocks } from '../fixtures';

describe('notify', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  it('publishes one JSON-structured message with a one-line subject and filterable attributes', async () => {
    m.sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
    const step = steps.notify();
    const outcome = await run(step, stepContext(testClients(), plan([step])));
    const input = m.sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.TopicArn).toBe(TOPIC);
    expect(input.MessageStructure).toBe('json');
    expect(input.Subject!.length).toBeLessThan(100);
    expect(input.Subject).not.toContain('\n');
    expect(Object.keys(JSON.parse(input.Message!))).toContain('default');
    expect(input.MessageAttributes?.severity).toEqual({ DataType: 'String', StringValue: 'CRITICAL' });
    expect(outcome).toMatchObject({ status: 'done', produced: { messageId: 'msg-1' } });
  });

  it('is skipped, saying why, when no topic is configured', async () => {
    const step = steps.notify();
    const outcome = await run(step, stepContext(testClients(), plan([step]), { topicArn: undefined }));
    expect(outcome.status).toBe('skipped');
    expect(outcome.detail).toContain('DRIFTWARDEN_TOPIC_ARN');
    expect(m.sns.calls()).toHaveLength(0);
  });

  it('fails with the error name when SNS refuses', async () => {
    m.sns.on(PublishCommand).rejects(awsError('AuthorizationError'));
    const step = steps.notify();
    const outcome = await run(step, stepContext(testClients(), plan([step])));
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'AuthorizationError' });
  });
});
