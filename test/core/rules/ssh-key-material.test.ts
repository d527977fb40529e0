import { sshKeyMaterial } from '../../../functions/core/rules/ssh-key-material';
import { actors, contextOf, eventOf, findingsOf, inputOf, instanceContext } from './fixtures';

describe('ssh-key-material', () => {
  it('is MEDIUM and contains by default', () => {
    expect(sshKeyMaterial).toMatchObject({ severity: 'MEDIUM', defaultMode: 'contain', actorMatters: true });
  });

  it('flags a key pair imported by an untrusted user', () => {
    const event = eventOf({ kind: 'key-pair', keyName: 'alice-laptop', operation: 'import' }, { eventName: 'ImportKeyPair' });
    expect(findingsOf(sshKeyMaterial.evaluate(inputOf(event)))).toEqual([
      {
        id: `ssh-key-material:${event.id}`,
        rule: 'ssh-key-material',
        severity: 'MEDIUM',
        summary: 'alice imported key pair "alice-laptop"',
        resources: [{ type: 'key-pair', id: 'alice-laptop' }],
      },
    ]);
  });

  it('does not flag a key pair created by the pipeline', () => {
    const event = eventOf({ kind: 'key-pair', keyName: 'deploy', operation: 'create' }, { actor: actors.pipeline });
    expect(findingsOf(sshKeyMaterial.evaluate(inputOf(event)))).toEqual([]);
  });

  it('flags a launch with a key by anyone, even the pipeline, as a launch-time finding', () => {
    const event = eventOf(
      { kind: 'instance-launch', instanceIds: ['i-0new'], imageId: 'ami-0a1b2c3d4e5f60001', keyName: 'ops', launchTemplate: { name: 'web', version: '$Latest' } },
      { eventName: 'RunInstances', actor: actors.pipeline },
    );
    const [finding] = findingsOf(sshKeyMaterial.evaluate(inputOf(event)));
    expect(finding).toEqual({
      id: `ssh-key-material:${event.id}`,
      rule: 'ssh-key-material',
      severity: 'MEDIUM',
      summary: 'i-0new launched by pipeline-deploy/build-42 with key pair "ops"; fix launch template web (version $Latest)',
      resources: [
        { type: 'instance', id: 'i-0new' },
        { type: 'key-pair', id: 'ops' },
      ],
      launchTime: true,
      launchSource: 'launch template web (version $Latest)',
    });
  });

  it('does not flag a launch without a key', () => {
    const event = eventOf({ kind: 'instance-launch', instanceIds: ['i-0new'], imageId: 'ami-0a1b2c3d4e5f60001' });
    expect(findingsOf(sshKeyMaterial.evaluate(inputOf(event)))).toEqual([]);
  });

  it('flags a Config item of a newly created instance with a key, naming its stack', () => {
    const event = eventOf(
      { kind: 'config-item', resourceType: 'AWS::EC2::Instance', resourceId: 'i-0cfg', changeType: 'CREATE', status: 'ResourceDiscovered', oversized: false, keyName: 'ops' },
      { origin: 'config', actor: actors.configService },
    );
    const context = contextOf({ instances: { 'i-0cfg': instanceContext('i-0cfg', { stack: { stackName: 'web-prod', logicalId: 'WebServer' } }) } });
    const [finding] = findingsOf(sshKeyMaterial.evaluate(inputOf(event, undefined, context)));
    expect(finding).toMatchObject({ launchTime: true, launchSource: 'stack web-prod', summary: 'i-0cfg launched with key pair "ops"; fix stack web-prod' });
  });

  it('does not flag later Config updates of an instance with a key (only its creation)', () => {
    const event = eventOf(
      { kind: 'config-item', resourceType: 'AWS::EC2::Instance', resourceId: 'i-0cfg', changeType: 'UPDATE', status: 'OK', oversized: false, keyName: 'ops' },
      { origin: 'config', actor: actors.configService },
    );
    expect(findingsOf(sshKeyMaterial.evaluate(inputOf(event)))).toEqual([]);
  });
});
