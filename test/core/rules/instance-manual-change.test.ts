import { instanceManualChange } from '../../../functions/core/rules/instance-manual-change';
import { actors, eventOf, findingsOf, inputOf, policyOf } from './fixtures';

describe('instance-manual-change', () => {
  it('is HIGH, replaces by default, and cares who did it', () => {
    expect(instanceManualChange).toMatchObject({ severity: 'HIGH', defaultMode: 'replace', actorMatters: true });
  });

  it('flags an untrusted user changing an instance type in place', () => {
    const event = eventOf({ kind: 'instance-change', instanceIds: ['i-0web'], attribute: 'instanceType' }, { eventName: 'ModifyInstanceAttribute' });
    const [finding] = findingsOf(instanceManualChange.evaluate(inputOf(event)));
    expect(finding).toEqual({
      id: `instance-manual-change:${event.id}`,
      rule: 'instance-manual-change',
      severity: 'HIGH',
      summary: 'alice changed instanceType of i-0web in place',
      resources: [{ type: 'instance', id: 'i-0web' }],
    });
  });

  it('names every instance and the volumes or interfaces involved', () => {
    const event = eventOf({ kind: 'instance-change', instanceIds: ['i-0a', 'i-0b'], related: ['vol-0123'] }, { eventName: 'AttachVolume' });
    const [finding] = findingsOf(instanceManualChange.evaluate(inputOf(event)));
    expect(finding!.summary).toBe('alice called AttachVolume on i-0a, i-0b in place (vol-0123)');
    expect(finding!.resources).toEqual([
      { type: 'instance', id: 'i-0a' },
      { type: 'instance', id: 'i-0b' },
      { type: 'other', id: 'vol-0123' },
    ]);
  });

  it('does not flag the pipeline or CloudFormation acting as a trusted role', () => {
    for (const actor of [actors.pipeline, actors.cloudFormationAsServiceRole]) {
      const event = eventOf({ kind: 'instance-change', instanceIds: ['i-0web'], attribute: 'userData' }, { actor });
      expect(findingsOf(instanceManualChange.evaluate(inputOf(event)))).toEqual([]);
    }
  });

  it('flags CloudFormation acting with an untrusted user\'s credentials when pipeline principals are configured', () => {
    const event = eventOf({ kind: 'instance-change', instanceIds: ['i-0web'], attribute: 'userData' }, { actor: actors.cloudFormationAsAlice });
    expect(findingsOf(instanceManualChange.evaluate(inputOf(event)))).toHaveLength(1);
  });

  it('does not flag an AWS service acting on its own when services are trusted, and does when they are not', () => {
    const event = eventOf({ kind: 'instance-change', instanceIds: ['i-0web'], attribute: 'stop' }, { actor: { type: 'AWSService', name: 'autoscaling.amazonaws.com', invokedBy: 'autoscaling.amazonaws.com' } });
    expect(findingsOf(instanceManualChange.evaluate(inputOf(event)))).toEqual([]);
    expect(findingsOf(instanceManualChange.evaluate(inputOf(event, policyOf({ trust: { awsServices: false } }))))).toHaveLength(1);
  });

  it('ignores launches: they are not in-place changes', () => {
    const event = eventOf({ kind: 'instance-launch', instanceIds: ['i-0new'], imageId: 'ami-0bad0000000000001' });
    expect(findingsOf(instanceManualChange.evaluate(inputOf(event)))).toEqual([]);
  });
});
