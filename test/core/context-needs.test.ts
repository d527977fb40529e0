import { contextNeeds } from '../../functions/core/context-needs';
import { anEvent, instanceEvent, policyWith, sgEvent } from './fixtures/builders';

describe('contextNeeds', () => {
  it('asks for the security group a rule change names, and its exemption writer', () => {
    expect(contextNeeds(sgEvent('sg-0abc'), policyWith())).toEqual({
      instanceIds: [],
      securityGroupIds: ['sg-0abc'],
      imageIds: [],
      exemptionResourceIds: ['sg-0abc'],
      exemptionTag: 'driftwarden:exempt-until',
    });
  });

  it('asks for every instance an in-place change or a shell names, once each', () => {
    const event = instanceEvent(['i-0bbb', 'i-0aaa', 'i-0bbb'], 'evt', 'shell-access');
    const request = contextNeeds(event, policyWith());
    expect(request.instanceIds).toEqual(['i-0aaa', 'i-0bbb']);
    expect(request.exemptionResourceIds).toEqual(['i-0aaa', 'i-0bbb']);
  });

  it('asks for the launched image only when approval depends on owner or age, and for the SSM path when one is set', () => {
    const launch = instanceEvent(['i-0new'], 'evt', 'instance-launch');
    expect(contextNeeds(launch, policyWith({ approvedAmis: { ids: ['ami-0a1b2c3d4e5f60001'] } })).imageIds).toEqual([]);
    const full = contextNeeds(launch, policyWith({ approvedAmis: { owners: ['444455556666'], ssmParameterPath: '/driftwarden/golden-amis/' } }));
    expect(full.imageIds).toEqual(['ami-0bad0000000000001']);
    expect(full.approvedAmiPath).toBe('/driftwarden/golden-amis/');
    expect(full.instanceIds).toEqual(['i-0new']);
    const off = contextNeeds(launch, policyWith({ rules: { 'unapproved-ami': { mode: 'off' } }, approvedAmis: { maxAgeDays: 30, ssmParameterPath: '/golden/' } }));
    expect(off.imageIds).toEqual([]);
    expect(off.approvedAmiPath).toBeUndefined();
  });

  it('reads Config items of instances and groups by their resource id', () => {
    const item = anEvent({ kind: 'config-item', resourceType: 'AWS::EC2::SecurityGroup', resourceId: 'sg-0cfg', changeType: 'UPDATE', status: 'OK', oversized: false });
    expect(contextNeeds(item, policyWith()).securityGroupIds).toEqual(['sg-0cfg']);
    const instanceItem = anEvent({ kind: 'config-item', resourceType: 'AWS::EC2::Instance', resourceId: 'i-0cfg', changeType: 'CREATE', status: 'OK', oversized: false, imageId: 'ami-0bad0000000000001' });
    const request = contextNeeds(instanceItem, policyWith({ approvedAmis: { maxAgeDays: 90 } }));
    expect(request.instanceIds).toEqual(['i-0cfg']);
    expect(request.imageIds).toEqual(['ami-0bad0000000000001']);
  });

  it('needs nothing for a read-only call', () => {
    const request = contextNeeds({ ...sgEvent(), readOnly: true }, policyWith());
    expect(request).toEqual({ instanceIds: [], securityGroupIds: [], imageIds: [], exemptionResourceIds: [], exemptionTag: 'driftwarden:exempt-until' });
  });

  it('needs no instance or group for a failed call (it is never acted on), only what rules read', () => {
    const failed = { ...instanceEvent(['i-0new'], 'evt', 'instance-launch'), failure: { errorCode: 'UnauthorizedOperation' } };
    const request = contextNeeds(failed, policyWith({ approvedAmis: { owners: ['444455556666'] } }));
    expect(request.instanceIds).toEqual([]);
    expect(request.exemptionResourceIds).toEqual([]);
    expect(request.imageIds).toEqual(['ami-0bad0000000000001']);
  });

  it('uses the policy exemption tag', () => {
    expect(contextNeeds(sgEvent(), policyWith({ exemptions: { tag: 'breakglass' } })).exemptionTag).toBe('breakglass');
  });
});
