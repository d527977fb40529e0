import { shellAccess } from '../../../functions/core/rules/shell-access';
import { actors, eventOf, findingsOf, inputOf } from './fixtures';

describe('shell-access', () => {
  it('is HIGH, replaces by default, and cares who did it', () => {
    expect(shellAccess).toMatchObject({ severity: 'HIGH', defaultMode: 'replace', actorMatters: true });
  });

  it('flags a Session Manager session by an untrusted user on the instance', () => {
    const event = eventOf({ kind: 'shell-access', instanceIds: ['i-0web'], channel: 'ssm-session' }, { eventSource: 'ssm.amazonaws.com', eventName: 'StartSession' });
    const [finding] = findingsOf(shellAccess.evaluate(inputOf(event)));
    expect(finding).toEqual({
      id: `shell-access:${event.id}`,
      rule: 'shell-access',
      severity: 'HIGH',
      summary: 'alice opened a Session Manager session on i-0web',
      resources: [{ type: 'instance', id: 'i-0web' }],
    });
  });

  it('names the OS user of an Instance Connect key push', () => {
    const event = eventOf({ kind: 'shell-access', instanceIds: ['i-0web'], channel: 'instance-connect', osUser: 'ec2-user' });
    const [finding] = findingsOf(shellAccess.evaluate(inputOf(event)));
    expect(finding!.summary).toBe('alice pushed an SSH key with EC2 Instance Connect to i-0web as ec2-user');
  });

  it('a SendCommand to tag targets names the targets and carries no instance resources', () => {
    const event = eventOf({ kind: 'shell-access', instanceIds: [], channel: 'ssm-command', targets: ['tag:Role=web'], documentName: 'AWS-RunShellScript' });
    const [finding] = findingsOf(shellAccess.evaluate(inputOf(event)));
    expect(finding!.summary).toBe('alice ran a command on tag:Role=web (AWS-RunShellScript)');
    expect(finding!.resources).toEqual([]);
  });

  it('does not flag a trusted automation role', () => {
    const event = eventOf({ kind: 'shell-access', instanceIds: ['i-0web'], channel: 'ssm-command' }, { actor: actors.pipeline });
    expect(findingsOf(shellAccess.evaluate(inputOf(event)))).toEqual([]);
  });
});
