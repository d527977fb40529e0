import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { run } from '../../../functions/aws/steps/tag';
import { INSTANCE, INSTANCE_FINDING_ID, NOW, awsError, mocks, plan, stepContext, steps, testClients, type Mocks } from '../fixtures';

describe('tag', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  it('marks the instance quarantined with the finding id, the reason and the time', async () => {
    m.ec2.on(CreateTagsCommand).resolves({});
    const step = steps.tag();
    const outcome = await run(step, stepContext(testClients(), plan([step])));
    expect(m.ec2).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [INSTANCE],
      Tags: [
        { Key: 'driftwarden:quarantined', Value: INSTANCE_FINDING_ID },
        { Key: 'driftwarden:reason', Value: 'changed by hand' },
        { Key: 'driftwarden:quarantined-at', Value: NOW.toISOString() },
      ],
    });
    expect(outcome.status).toBe('done');
  });

  it('reports AccessDenied as a failed outcome', async () => {
    m.ec2.on(CreateTagsCommand).rejects(awsError('UnauthorizedOperation'));
    const step = steps.tag();
    const outcome = await run(step, stepContext(testClients(), plan([step])));
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'UnauthorizedOperation' });
  });
});
