/**
 * The AWS world each integration case starts from, created in moto_server with the SDK: a VPC,
 * security groups, instances with volumes, the alert topic with a queue subscribed to read
 * it, the two DynamoDB tables in the template's shapes, the kill switch, a stack that honours
 * the replacement contract and an Auto Scaling group.
 */
import { AutoScalingClient, CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, CreateStackCommand, DescribeStackResourcesCommand, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { MOTO_REGION } from './moto';
import { idempotencyTableDefinition, stateTableDefinition } from '../../functions/aws/state/tables';

export const TABLES = { idempotency: 'driftwarden-idempotency', state: 'driftwarden-state' } as const;
export const KILL_SWITCH_PARAMETER = '/driftwarden/kill-switch';
export const STACK_NAME = 'workload';

export interface MotoClients {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  cloudFormation: CloudFormationClient;
  sns: SNSClient;
  sqs: SQSClient;
  dynamodb: DynamoDBClient;
  ssm: SSMClient;
}

export function motoClients(endpoint: string): MotoClients {
  const config = { endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 };
  return {
    ec2: new EC2Client(config),
    autoScaling: new AutoScalingClient(config),
    cloudFormation: new CloudFormationClient(config),
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
    dynamodb: new DynamoDBClient(config),
    ssm: new SSMClient(config),
  };
}

export function destroyClients(clients: MotoClients): void {
  for (const client of Object.values(clients)) client.destroy();
}

export interface Network {
  vpcId: string;
  subnetId: string;
  imageId: string;
}

export async function createNetwork(ec2: EC2Client): Promise<Network> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: `${MOTO_REGION}a` }));
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const imageId = images.Images?.find((i) => i.ImageId)?.ImageId;
  if (!imageId) throw new Error('moto offers no AMI to launch from');
  return { vpcId, subnetId: subnet.Subnet!.SubnetId!, imageId };
}

/** A security group with an HTTPS rule from the VPC (the legitimate rule that must survive). */
export async function createWebGroup(ec2: EC2Client, vpcId: string, name: string): Promise<string> {
  const group = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: `${name} (integration test)`, VpcId: vpcId }));
  const groupId = group.GroupId!;
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'HTTPS from the VPC' }] }],
    }),
  );
  return groupId;
}

export async function createStateTables(dynamodb: DynamoDBClient): Promise<void> {
  // The template's shapes (template.yaml: IdempotencyTable, StateTable).
  await dynamodb.send(new CreateTableCommand(idempotencyTableDefinition(TABLES.idempotency)));
  await dynamodb.send(new CreateTableCommand(stateTableDefinition(TABLES.state)));
}

export interface AlertChannel {
  topicArn: string;
  queueUrl: string;
}

/** The alert topic, and a queue subscribed to it so that a test can read what was published. */
export async function createAlertChannel(sns: SNSClient, sqs: SQSClient): Promise<AlertChannel> {
  const topic = await sns.send(new CreateTopicCommand({ Name: 'driftwarden-alerts' }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'driftwarden-alerts-reader' }));
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl!, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn!, Protocol: 'sqs', Endpoint: attributes.Attributes!.QueueArn! }));
  return { topicArn: topic.TopicArn!, queueUrl: queue.QueueUrl! };
}

export async function setKillSwitch(ssm: SSMClient, value: 'on' | 'off'): Promise<void> {
  await ssm.send(new PutParameterCommand({ Name: KILL_SWITCH_PARAMETER, Type: 'String', Value: value, Overwrite: true }));
}

export interface ReceivedAlert {
  subject: string;
  message: string;
}

/** Every alert on the queue, read until the queue is empty (SNS notifications in their JSON envelope). */
export async function drainAlerts(sqs: SQSClient, queueUrl: string): Promise<ReceivedAlert[]> {
  const alerts: ReceivedAlert[] = [];
  for (;;) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600 }));
    const messages = res.Messages ?? [];
    if (messages.length === 0) return alerts;
    for (const m of messages) {
      const envelope = JSON.parse(m.Body ?? '{}') as { Subject?: string; Message?: string };
      alerts.push({ subject: envelope.Subject ?? '', message: envelope.Message ?? '' });
    }
  }
}

export async function describeInstance(ec2: EC2Client, instanceId: string): Promise<Instance> {
  const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = res.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  if (!instance) throw new Error(`moto does not know instance ${instanceId}`);
  return instance;
}

export const tagValue = (tags: { Key?: string; Value?: string }[] | undefined, key: string): string | undefined =>
  tags?.find((t) => t.Key === key)?.Value;

/** A one-instance stack that honours the replacement contract (functions/aws/steps/replace.ts). */
export const REPLACEMENT_CONTRACT_TEMPLATE = JSON.stringify({
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: {
    DriftwardenReplacementToken: { Type: 'String', Default: 'initial' },
    ImageId: { Type: 'String' },
    SubnetId: { Type: 'String' },
    SecurityGroupId: { Type: 'String' },
  },
  Resources: {
    LaunchTemplate: {
      Type: 'AWS::EC2::LaunchTemplate',
      Properties: {
        LaunchTemplateData: {
          ImageId: { Ref: 'ImageId' },
          InstanceType: 't3.micro',
          SecurityGroupIds: [{ Ref: 'SecurityGroupId' }],
          TagSpecifications: [
            { ResourceType: 'instance', Tags: [{ Key: 'driftwarden:replacement-token', Value: { Ref: 'DriftwardenReplacementToken' } }] },
          ],
        },
      },
    },
    WorkloadInstance: {
      Type: 'AWS::EC2::Instance',
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
      Properties: {
        LaunchTemplate: { LaunchTemplateId: { Ref: 'LaunchTemplate' }, Version: { 'Fn::GetAtt': ['LaunchTemplate', 'LatestVersionNumber'] } },
        // moto's AWS::EC2::Instance requires ImageId and ignores LaunchTemplate; AWS accepts both
        // (ImageId overrides the launch template's, which is the same AMI here).
        ImageId: { Ref: 'ImageId' },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3' } }],
        SubnetId: { Ref: 'SubnetId' },
        SecurityGroupIds: [{ Ref: 'SecurityGroupId' }],
      },
    },
  },
});

export interface StandaloneStack {
  stackId: string;
  instanceId: string;
}

export async function createStandaloneStack(clients: MotoClients, network: Network, securityGroupId: string): Promise<StandaloneStack> {
  const created = await clients.cloudFormation.send(
    new CreateStackCommand({
      StackName: STACK_NAME,
      TemplateBody: REPLACEMENT_CONTRACT_TEMPLATE,
      Parameters: [
        { ParameterKey: 'ImageId', ParameterValue: network.imageId },
        { ParameterKey: 'SubnetId', ParameterValue: network.subnetId },
        { ParameterKey: 'SecurityGroupId', ParameterValue: securityGroupId },
      ],
    }),
  );
  const resources = await clients.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: STACK_NAME }));
  const instanceId = resources.StackResources?.find((r) => r.LogicalResourceId === 'WorkloadInstance')?.PhysicalResourceId;
  if (!instanceId) throw new Error(`stack ${STACK_NAME} has no WorkloadInstance: ${JSON.stringify(resources.StackResources)}`);
  return { stackId: created.StackId!, instanceId };
}

export async function describeStack(cloudFormation: CloudFormationClient, stackName: string = STACK_NAME): Promise<Stack> {
  const res = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  return res.Stacks![0]!;
}

export interface ScalingGroup {
  groupName: string;
  instanceIds: string[];
}

/**
 * A group of two members. The launch template names no security group, so the members sit in
 * the VPC's default group: moto reports an attached interface's groups as its own PLUS the
 * instance's launch groups, so with launch groups a ModifyNetworkInterfaceAttribute would seem
 * to add the isolation group instead of replacing the groups (AWS replaces them).
 */
export async function createScalingGroup(
  clients: MotoClients,
  network: Network,
  groupName: string,
  /**
   * The stack that owns the group: its `aws:cloudformation:*` tags propagate to the members, as
   * CloudFormation's do (moto accepts the reserved prefix from the API, which AWS would not).
   */
  ownerStack?: { stackName: string; stackId: string },
): Promise<ScalingGroup> {
  const template = await clients.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${groupName}-template`,
      LaunchTemplateData: { ImageId: network.imageId, InstanceType: 't3.micro' },
    }),
  );
  await clients.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: groupName,
      MinSize: 2,
      MaxSize: 4,
      DesiredCapacity: 2,
      VPCZoneIdentifier: network.subnetId,
      LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate!.LaunchTemplateId!, Version: '$Latest' },
      ...(ownerStack
        ? {
            Tags: [
              { Key: 'aws:cloudformation:stack-name', Value: ownerStack.stackName },
              { Key: 'aws:cloudformation:stack-id', Value: ownerStack.stackId },
              { Key: 'aws:cloudformation:logical-id', Value: 'WorkloadGroup' },
            ].map((tag) => ({ ...tag, PropagateAtLaunch: true, ResourceId: groupName, ResourceType: 'auto-scaling-group' })),
          }
        : {}),
    }),
  );
  const group = await clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }));
  const instanceIds = (group.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId!).filter(Boolean);
  if (instanceIds.length !== 2) throw new Error(`group ${groupName} launched ${instanceIds.length} instances, expected 2`);
  return { groupName, instanceIds };
}

/** The SSH rule opened to the world by hand on a group; its rule id. */
export async function openSshToWorld(ec2: EC2Client, groupId: string): Promise<string> {
  const opened = await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'temp ssh' }] }],
    }),
  );
  const ruleId = opened.SecurityGroupRules?.[0]?.SecurityGroupRuleId;
  if (!ruleId) throw new Error(`moto returned no rule id for the SSH rule on ${groupId}`);
  return ruleId;
}

/** A moto AMI other than the network's (an image the test policy does not approve). */
export async function otherImageId(ec2: EC2Client, network: Network): Promise<string> {
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const other = images.Images?.map((i) => i.ImageId).find((id): id is string => typeof id === 'string' && id !== network.imageId);
  if (!other) throw new Error('moto offers only one AMI: no unapproved image to launch from');
  return other;
}

/**
 * `count` running instances in the network's subnet (the VPC's default group, see
 * createScalingGroup for why no launch group), each with one volume, from the network's image
 * unless `imageId` says otherwise, each launched by its own RunInstances call: moto pages
 * DescribeInstances by reservation, so one reservation per instance makes MaxResults count
 * instances. `tags` go on each at launch; moto accepts the reserved `aws:` prefix from the
 * API (AWS would not), which stands in for what CloudFormation tags.
 */
export async function launchInstances(
  ec2: EC2Client,
  network: Network,
  count: number,
  options: { imageId?: string; tags?: Record<string, string> } = {},
): Promise<string[]> {
  const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const res = await ec2.send(
      new RunInstancesCommand({
        ImageId: options.imageId ?? network.imageId,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: network.subnetId,
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3' } }],
        ...(tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'instance', Tags: tags }] } : {}),
      }),
    );
    const id = res.Instances?.[0]?.InstanceId;
    if (!id) throw new Error(`moto launched no instance from ${options.imageId ?? network.imageId}`);
    ids.push(id);
  }
  return ids;
}
