import { RevokeSecurityGroupEgressCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { run } from '../../../functions/aws/steps/revoke-rule';
import type { SgRule } from '../../../functions/core/model';
import { ADMIN_SG, SSH_WORLD, awsError, mocks, plan, stepContext, steps, testClients, type Mocks } from '../fixtures';

describe('revoke-rule', () => {
  let m: Mocks;
  beforeEach(() => {
    m = mocks();
  });
  afterEach(() => Object.values(m).forEach((mock) => mock.restore()));

  const runStep = (rules: SgRule[]) => {
    const step = steps.revoke(rules);
    return run(step, stepContext(testClients(), plan([step])));
  };

  it('revokes only the offending rule by its rule id, never the whole group', async () => {
    m.ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true, RevokedSecurityGroupRules: [{ SecurityGroupRuleId: SSH_WORLD.ruleId }] });
    const outcome = await runStep([SSH_WORLD]);
    expect(m.ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: ADMIN_SG, SecurityGroupRuleIds: ['sgr-0ssh000000000001'] });
    expect(m.ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input.IpPermissions).toBeUndefined();
    expect(m.ec2).not.toHaveReceivedCommand(RevokeSecurityGroupEgressCommand);
    expect(outcome.status).toBe('done');
    expect(outcome.detail).toContain('revoked sgr-0ssh000000000001');
  });

  it('revokes by the exact permission, one source, when the rule has no id', async () => {
    m.ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const { ruleId: _ignored, ...noId } = SSH_WORLD;
    const outcome = await runStep([noId, { direction: 'ingress', protocol: 'tcp', fromPort: 3389, toPort: 3389, cidrIpv6: '::/0' }]);
    expect(m.ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input).toEqual({
      GroupId: ADMIN_SG,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ],
    });
    expect(outcome.status).toBe('done');
  });

  it('revokes ingress and egress rules each with their own call', async () => {
    m.ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    m.ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
    const egress: SgRule = { ruleId: 'sgr-0egress', direction: 'egress', protocol: '-1', cidrIpv4: '0.0.0.0/0' };
    await runStep([SSH_WORLD, egress]);
    expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: ADMIN_SG, SecurityGroupRuleIds: [SSH_WORLD.ruleId!] });
    expect(m.ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: ADMIN_SG, SecurityGroupRuleIds: ['sgr-0egress'] });
  });

  it('refuses to revoke a rule it cannot name exactly (no id, no source), rather than widen', async () => {
    const outcome = await runStep([{ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22 }]);
    expect(m.ec2.calls()).toHaveLength(0);
    expect(outcome.status).toBe('failed');
    expect(outcome.errorName).toBe('RuleNotExact');
  });

  it('reports "rule already gone" when AWS answers Return true with the permission unknown', async () => {
    m.ec2.on(RevokeSecurityGroupIngressCommand).resolves({
      Return: true,
      UnknownIpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    const { ruleId: _ignored, ...noId } = SSH_WORLD;
    const outcome = await runStep([noId]);
    expect(outcome.status).toBe('already-done');
    expect(outcome.detail).toContain('rule already gone');
  });

  it.each(['InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound'])('treats %s as already done', async (code) => {
    m.ec2.on(RevokeSecurityGroupIngressCommand).rejects(awsError(code));
    const outcome = await runStep([SSH_WORLD]);
    expect(outcome.status).toBe('already-done');
  });

  it.each([
    ['UnauthorizedOperation', 'You are not authorized to perform this operation.'],
    ['RequestLimitExceeded', 'Request limit exceeded.'],
  ])('turns %s into a failed outcome with the error name, never a throw', async (code, message) => {
    m.ec2.on(RevokeSecurityGroupIngressCommand).rejects(awsError(code, message));
    const outcome = await runStep([SSH_WORLD]);
    expect(outcome).toMatchObject({ action: 'revoke-rule', resource: ADMIN_SG, status: 'failed', errorName: code });
    expect(outcome.detail).toContain(message);
  });
});
