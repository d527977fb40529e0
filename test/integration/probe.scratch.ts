import { motoClients, createNetwork, createWebGroup, createStandaloneStack, createScalingGroup, describeInstance, describeStack } from './world';
import { DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { UpdateStackCommand } from '@aws-sdk/client-cloudformation';
(async () => {
  await fetch('http://127.0.0.1:45111/moto-api/reset', { method: 'POST' });
  const c = motoClients('http://127.0.0.1:45111');
  const n = await createNetwork(c.ec2);
  console.log(n);
  const sg = await createWebGroup(c.ec2, n.vpcId, 'web');
  const st = await createStandaloneStack(c, n, sg);
  const i = await describeInstance(c.ec2, st.instanceId);
  console.log(JSON.stringify({ tags: i.Tags, nis: i.NetworkInterfaces?.map(x=>[x.NetworkInterfaceId, x.Groups, x.Attachment?.DeviceIndex]), bdm: i.BlockDeviceMappings, vpc: i.VpcId }, null, 1));
  const s = await describeStack(c.cloudFormation);
  console.log(s.StackStatus, s.Parameters);
  const g = await createScalingGroup(c, n, sg, 'fleet');
  const m = await describeInstance(c.ec2, g.instanceIds[0]!);
  console.log(JSON.stringify({ tags: m.Tags, bdm: m.BlockDeviceMappings, nis: m.NetworkInterfaces?.length }));
  try {
    const u = await c.cloudFormation.send(new UpdateStackCommand({ StackName: s.StackId, UsePreviousTemplate: true, Parameters: s.Parameters!.map(p => p.ParameterKey === 'DriftwardenReplacementToken' ? { ParameterKey: p.ParameterKey, ParameterValue: 'dw-x' } : { ParameterKey: p.ParameterKey, UsePreviousValue: true }), ClientRequestToken: 'driftwarden-abc' }));
    console.log('update', u);
    const s2 = await describeStack(c.cloudFormation);
    console.log(s2.StackStatus, s2.Parameters);
    const { DescribeStackResourcesCommand } = await import('@aws-sdk/client-cloudformation');
    const r = await c.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: 'workload' }));
    console.log(r.StackResources?.map(x => [x.LogicalResourceId, x.PhysicalResourceId]));
    const old = await describeInstance(c.ec2, st.instanceId); console.log('old state', old.State);
  } catch (e) { console.log('update failed', e); }
})();
