import { CloudFormationClient, DetectStackResourceDriftCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { IAM_ACTIONS, confirmInstanceDrift, describeDifferences } from '../../functions/aws/drift';

const cfn = mockClient(CloudFormationClient);
const clients = { cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }) };

beforeEach(() => cfn.reset());

describe('confirmInstanceDrift', () => {
  it('asks CloudFormation about exactly the one instance resource and returns its differences', async () => {
    cfn.on(DetectStackResourceDriftCommand).resolves({
      StackResourceDrift: {
        StackId: 'arn:stack/web/1',
        LogicalResourceId: 'WebInstance',
        ResourceType: 'AWS::EC2::Instance',
        StackResourceDriftStatus: 'MODIFIED',
        Timestamp: new Date(),
        PropertyDifferences: [{ PropertyPath: '/InstanceType', ExpectedValue: 't3.micro', ActualValue: 't3.large', DifferenceType: 'NOT_EQUAL' }],
      },
    });
    const result = await confirmInstanceDrift(clients, 'web', 'WebInstance');
    expect(cfn).toHaveReceivedCommandWith(DetectStackResourceDriftCommand, { StackName: 'web', LogicalResourceId: 'WebInstance' });
    expect(result).toEqual({ status: 'MODIFIED', differences: [{ path: '/InstanceType', expected: 't3.micro', actual: 't3.large', type: 'NOT_EQUAL' }] });
    expect(describeDifferences(result.differences)).toEqual(['/InstanceType: expected t3.micro, actual t3.large (NOT_EQUAL)']);
  });

  it.each(['IN_SYNC', 'DELETED', 'NOT_CHECKED'] as const)('passes CloudFormation’s %s on with no differences', async (status) => {
    cfn.on(DetectStackResourceDriftCommand).resolves({
      StackResourceDrift: { StackId: 's', LogicalResourceId: 'WebInstance', ResourceType: 'AWS::EC2::Instance', StackResourceDriftStatus: status, Timestamp: new Date() },
    });
    expect(await confirmInstanceDrift(clients, 'web', 'WebInstance')).toEqual({ status, differences: [] });
  });

  it('answers UNKNOWN with the AWS error instead of throwing', async () => {
    cfn.on(DetectStackResourceDriftCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const result = await confirmInstanceDrift(clients, 'web', 'WebInstance');
    expect(result.status).toBe('UNKNOWN');
    expect(result.reason).toContain('Throttling: Rate exceeded');
  });

  it('does not call CloudFormation without a logical id', async () => {
    expect((await confirmInstanceDrift(clients, 'web', '')).status).toBe('UNKNOWN');
    expect(cfn).not.toHaveReceivedCommand(DetectStackResourceDriftCommand);
  });

  it('declares the IAM action it uses', () => {
    expect(IAM_ACTIONS).toEqual(['cloudformation:DetectStackResourceDrift']);
  });
});
