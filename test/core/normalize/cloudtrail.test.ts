import { normalize } from '../../../functions/core/normalize';
import type { Change } from '../../../functions/core/model';
import { ACCOUNT, REGION, accepted, record, viaEventBridge } from './fixtures';

const changeOf = (input: unknown): Change => accepted(normalize(input)).change;

describe('instance launches (RunInstances)', () => {
  it('reads instance ids, AMI and key from the response, and the launch template from the request', () => {
    const event = accepted(
      normalize(
        record(
          'ec2.amazonaws.com',
          'RunInstances',
          { instancesSet: { items: [{ minCount: 2, maxCount: 2 }] }, launchTemplate: { launchTemplateId: 'lt-0123456789abcdef0', launchTemplateName: 'adhoc', version: '3' } },
          {
            responseElements: {
              instancesSet: {
                items: [
                  { instanceId: 'i-0a1b2c3d4e5f60003', imageId: 'ami-0fedcba9876543210', keyName: 'ops' },
                  { instanceId: 'i-0a1b2c3d4e5f60005', imageId: 'ami-0fedcba9876543210', keyName: 'ops' },
                ],
              },
            },
          },
        ),
      ),
    );
    expect(event.change).toEqual({
      kind: 'instance-launch',
      instanceIds: ['i-0a1b2c3d4e5f60003', 'i-0a1b2c3d4e5f60005'],
      imageId: 'ami-0fedcba9876543210',
      keyName: 'ops',
      launchTemplate: { id: 'lt-0123456789abcdef0', name: 'adhoc', version: '3' },
    });
    expect(event.resources).toEqual([
      { type: 'instance', id: 'i-0a1b2c3d4e5f60003' },
      { type: 'instance', id: 'i-0a1b2c3d4e5f60005' },
      { type: 'image', id: 'ami-0fedcba9876543210' },
      { type: 'launch-template', id: 'lt-0123456789abcdef0' },
      { type: 'key-pair', id: 'ops' },
    ]);
  });

  it('falls back to the request instancesSet items, then top-level imageId/keyName, when the call failed', () => {
    expect(
      changeOf(record('ec2.amazonaws.com', 'RunInstances', { instancesSet: { items: [{ imageId: 'ami-0a1b2c3d4e5f60001', keyName: 'k1' }] } }, { errorCode: 'Client.UnauthorizedOperation' })),
    ).toEqual({ kind: 'instance-launch', instanceIds: [], imageId: 'ami-0a1b2c3d4e5f60001', keyName: 'k1' });
    expect(changeOf(record('ec2.amazonaws.com', 'RunInstances', { imageId: 'ami-0a1b2c3d4e5f60002', keyName: 'k2' }))).toEqual({
      kind: 'instance-launch',
      instanceIds: [],
      imageId: 'ami-0a1b2c3d4e5f60002',
      keyName: 'k2',
    });
  });
});

describe('in-place instance changes', () => {
  it.each([
    [{ instanceId: 'i-0a1b2c3d4e5f60001', instanceType: { value: 'm5.large' } }, 'instanceType'],
    [{ instanceId: 'i-0a1b2c3d4e5f60001', userData: '<sensitiveDataRemoved>' }, 'userData'],
    [{ instanceId: 'i-0a1b2c3d4e5f60001', disableApiTermination: { value: true } }, 'disableApiTermination'],
    [{ instanceId: 'i-0a1b2c3d4e5f60001', attribute: 'instanceInitiatedShutdownBehavior', value: 'terminate' }, 'instanceInitiatedShutdownBehavior'],
  ])('names the attribute ModifyInstanceAttribute set: %j → %s', (request, attribute) => {
    expect(changeOf(record('ec2.amazonaws.com', 'ModifyInstanceAttribute', request))).toEqual({ kind: 'instance-change', instanceIds: ['i-0a1b2c3d4e5f60001'], attribute });
  });

  it('lists the groups of a groupSet change as related', () => {
    expect(
      changeOf(record('ec2.amazonaws.com', 'ModifyInstanceAttribute', { instanceId: 'i-0a1b2c3d4e5f60002', groupSet: { items: [{ groupId: 'sg-0a1b2c3d4e5f60002' }, { groupId: 'sg-0a1b2c3d4e5f60003' }] } })),
    ).toEqual({ kind: 'instance-change', instanceIds: ['i-0a1b2c3d4e5f60002'], attribute: 'groupSet', related: ['sg-0a1b2c3d4e5f60002', 'sg-0a1b2c3d4e5f60003'] });
  });

  it('finds every instance of Stop/Start/RebootInstances in instancesSet', () => {
    for (const [eventName, attribute] of [
      ['StopInstances', 'stop'],
      ['StartInstances', 'start'],
      ['RebootInstances', 'reboot'],
    ]) {
      expect(
        changeOf(record('ec2.amazonaws.com', eventName!, { instancesSet: { items: [{ instanceId: 'i-0a1b2c3d4e5f60001' }, { instanceId: 'i-0a1b2c3d4e5f60002' }] }, force: false })),
      ).toEqual({ kind: 'instance-change', instanceIds: ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002'], attribute });
    }
  });

  it('maps an IAM instance profile association id to the instance the response names', () => {
    const change = changeOf(
      record(
        'ec2.amazonaws.com',
        'ReplaceIamInstanceProfileAssociation',
        { ReplaceIamInstanceProfileAssociationRequest: { AssociationId: 'iip-assoc-0a1b2c3d4e5f60001', IamInstanceProfile: { Name: 'admin-profile' } } },
        {
          responseElements: {
            ReplaceIamInstanceProfileAssociationResponse: {
              iamInstanceProfileAssociation: { associationId: 'iip-assoc-0a1b2c3d4e5f60002', instanceId: 'i-0a1b2c3d4e5f60001', state: 'associating' },
            },
          },
        },
      ),
    );
    expect(change).toMatchObject({ kind: 'instance-change', instanceIds: ['i-0a1b2c3d4e5f60001'], attribute: 'iamInstanceProfile' });
    expect(change.kind === 'instance-change' && change.related).toEqual(expect.arrayContaining(['iip-assoc-0a1b2c3d4e5f60001', 'iip-assoc-0a1b2c3d4e5f60002', 'admin-profile']));
  });

  it('reads volumes and network interfaces as related', () => {
    expect(changeOf(record('ec2.amazonaws.com', 'AttachVolume', { volumeId: 'vol-0a1b2c3d4e5f60009', instanceId: 'i-0a1b2c3d4e5f60001', device: '/dev/sdz' }))).toEqual({
      kind: 'instance-change',
      instanceIds: ['i-0a1b2c3d4e5f60001'],
      attribute: 'attachVolume',
      related: ['vol-0a1b2c3d4e5f60009'],
    });
    // DetachVolume may name only the volume in the request; the response names the instance.
    expect(
      changeOf(record('ec2.amazonaws.com', 'DetachVolume', { volumeId: 'vol-0a1b2c3d4e5f60002' }, { responseElements: { volumeId: 'vol-0a1b2c3d4e5f60002', instanceId: 'i-0a1b2c3d4e5f60001', status: 'detaching' } })),
    ).toMatchObject({ instanceIds: ['i-0a1b2c3d4e5f60001'], attribute: 'detachVolume', related: ['vol-0a1b2c3d4e5f60002'] });
    expect(changeOf(record('ec2.amazonaws.com', 'ModifyNetworkInterfaceAttribute', { networkInterfaceId: 'eni-0a1b2c3d4e5f60001', groupSet: { items: [{ groupId: 'sg-0a1b2c3d4e5f60003' }] } }))).toEqual({
      kind: 'instance-change',
      instanceIds: [],
      attribute: 'groupSet',
      related: ['eni-0a1b2c3d4e5f60001', 'sg-0a1b2c3d4e5f60003'],
    });
  });

  it.each([
    ['ModifyInstanceMetadataOptions', { instanceId: 'i-0a1b2c3d4e5f60001', httpTokens: 'optional' }, 'metadataOptions'],
    ['ModifyInstancePlacement', { instanceId: 'i-0a1b2c3d4e5f60001', tenancy: 'dedicated' }, 'placement'],
    ['ResetInstanceAttribute', { instanceId: 'i-0a1b2c3d4e5f60001', attribute: 'sourceDestCheck' }, 'sourceDestCheck'],
    ['AttachNetworkInterface', { instanceId: 'i-0a1b2c3d4e5f60001', networkInterfaceId: 'eni-0a1b2c3d4e5f60009', deviceIndex: 2 }, 'attachNetworkInterface'],
  ])('reads %s as an instance change (%s)', (eventName, request, attribute) => {
    expect(changeOf(record('ec2.amazonaws.com', eventName, request))).toMatchObject({ kind: 'instance-change', instanceIds: ['i-0a1b2c3d4e5f60001'], attribute });
  });
});

describe('shell access', () => {
  it('reads ssm StartSession with its target and document', () => {
    expect(changeOf(record('ssm.amazonaws.com', 'StartSession', { target: 'i-0a1b2c3d4e5f60001', documentName: 'AWS-StartPortForwardingSession' }))).toEqual({
      kind: 'shell-access',
      instanceIds: ['i-0a1b2c3d4e5f60001'],
      channel: 'ssm-session',
      documentName: 'AWS-StartPortForwardingSession',
    });
  });

  it('reads ssm SendCommand instanceIds and InstanceIds targets, and keeps tag targets as text without inventing ids', () => {
    expect(
      changeOf(
        record('ssm.amazonaws.com', 'SendCommand', {
          documentName: 'AWS-RunShellScript',
          instanceIds: ['i-0a1b2c3d4e5f60001'],
          targets: [{ key: 'InstanceIds', values: ['i-0a1b2c3d4e5f60002'] }],
          parameters: 'HIDDEN_DUE_TO_SECURITY_REASONS',
        }),
      ),
    ).toEqual({ kind: 'shell-access', instanceIds: ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002'], channel: 'ssm-command', documentName: 'AWS-RunShellScript' });
    expect(changeOf(record('ssm.amazonaws.com', 'SendCommand', { documentName: 'AWS-RunShellScript', targets: [{ Key: 'tag:Env', Values: ['prod', 'stage'] }] }))).toEqual({
      kind: 'shell-access',
      instanceIds: [],
      channel: 'ssm-command',
      documentName: 'AWS-RunShellScript',
      targets: ['tag:Env=prod,stage'],
    });
  });

  it('reads ec2-instance-connect SendSSHPublicKey with the OS user, in either spelling', () => {
    for (const userField of ['instanceOSUser', 'osUser']) {
      expect(changeOf(viaEventBridge(record('ec2-instance-connect.amazonaws.com', 'SendSSHPublicKey', { instanceId: 'i-0a1b2c3d4e5f60002', [userField]: 'ec2-user' }), 'aws.ec2-instance-connect'))).toEqual({
        kind: 'shell-access',
        instanceIds: ['i-0a1b2c3d4e5f60002'],
        channel: 'instance-connect',
        osUser: 'ec2-user',
      });
    }
  });

  it('reads SendSerialConsoleSSHPublicKey as the serial console', () => {
    expect(changeOf(record('ec2-instance-connect.amazonaws.com', 'SendSerialConsoleSSHPublicKey', { instanceId: 'i-0a1b2c3d4e5f60002', serialPort: 0 }))).toEqual({
      kind: 'shell-access',
      instanceIds: ['i-0a1b2c3d4e5f60002'],
      channel: 'serial-console',
    });
  });
});

describe('key pairs', () => {
  it.each([
    ['CreateKeyPair', 'create'],
    ['ImportKeyPair', 'import'],
  ])('reads %s as a key-pair %s', (eventName, operation) => {
    const event = accepted(normalize(record('ec2.amazonaws.com', eventName, { keyName: 'ops-laptop' })));
    expect(event.change).toEqual({ kind: 'key-pair', keyName: 'ops-laptop', operation });
    expect(event.resources).toEqual([{ type: 'key-pair', id: 'ops-laptop' }]);
  });
});

describe('control changes (what the tamper rule reads)', () => {
  it.each([
    ['cloudtrail.amazonaws.com', 'StopLogging', { name: 'org-trail' }, 'cloudtrail', 'org-trail'],
    ['cloudtrail.amazonaws.com', 'PutEventSelectors', { trailName: 'org-trail', eventSelectors: [] }, 'cloudtrail', 'org-trail'],
    ['config.amazonaws.com', 'StopConfigurationRecorder', { configurationRecorderName: 'default' }, 'config', 'default'],
    ['config.amazonaws.com', 'DeleteDeliveryChannel', { deliveryChannelName: 'default' }, 'config', 'default'],
    ['config.amazonaws.com', 'PutConfigurationRecorder', { configurationRecorder: { name: 'default', recordingGroup: {} } }, 'config', 'default'],
    ['events.amazonaws.com', 'DisableRule', { name: 'driftwarden-cloudtrail' }, 'events', 'driftwarden-cloudtrail'],
    ['events.amazonaws.com', 'RemoveTargets', { rule: 'driftwarden-cloudtrail', ids: ['responder'] }, 'events', 'driftwarden-cloudtrail'],
    ['ssm.amazonaws.com', 'DeleteParameter', { name: '/driftwarden/kill-switch' }, 'ssm', '/driftwarden/kill-switch'],
  ])('reads %s %s as a control change', (eventSource, eventName, request, service, target) => {
    expect(changeOf(record(eventSource, eventName, request))).toMatchObject({ kind: 'control', service, target });
  });

  it('strips the API-version suffix from lambda event names and keeps the raw name', () => {
    const event = accepted(normalize(record('lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', { functionName: 'driftwarden-responder', environment: {} })));
    expect(event.eventName).toBe('UpdateFunctionConfiguration');
    expect(event.change).toEqual({ kind: 'control', service: 'lambda', target: 'driftwarden-responder', details: { rawEventName: 'UpdateFunctionConfiguration20150331v2' } });
    expect((event.raw as { eventName: string }).eventName).toBe('UpdateFunctionConfiguration20150331v2');
    expect(accepted(normalize(record('lambda.amazonaws.com', 'DeleteFunction20150331', { functionName: 'x' }))).eventName).toBe('DeleteFunction');
    expect(accepted(normalize(record('lambda.amazonaws.com', 'PutFunctionConcurrency20171031', { functionName: 'x' }))).change).toMatchObject({ kind: 'control', service: 'lambda' });
  });

  it('reads CreateTags and DeleteTags as tag changes with keys and resources', () => {
    const deleted = accepted(
      normalize(
        record('ec2.amazonaws.com', 'DeleteTags', {
          resourcesSet: { items: [{ resourceId: 'i-0a1b2c3d4e5f60003' }, { resourceId: 'sg-0a1b2c3d4e5f60003' }] },
          tagSet: { items: [{ key: 'driftwarden:quarantined' }] },
        }),
      ),
    );
    expect(deleted.change).toEqual({ kind: 'control', service: 'tags', tagKeys: ['driftwarden:quarantined'], resourceIds: ['i-0a1b2c3d4e5f60003', 'sg-0a1b2c3d4e5f60003'] });
    expect(deleted.resources).toEqual([
      { type: 'instance', id: 'i-0a1b2c3d4e5f60003' },
      { type: 'security-group', id: 'sg-0a1b2c3d4e5f60003' },
    ]);
    const created = changeOf(
      record('ec2.amazonaws.com', 'CreateTags', { resourcesSet: { items: [{ resourceId: 'i-0a1b2c3d4e5f60001' }] }, tagSet: { items: [{ key: 'driftwarden:exempt-until', value: '2026-11-21T00:00:00Z' }] } }),
    );
    expect(created).toEqual({
      kind: 'control',
      service: 'tags',
      tagKeys: ['driftwarden:exempt-until'],
      resourceIds: ['i-0a1b2c3d4e5f60001'],
      details: { tags: { 'driftwarden:exempt-until': '2026-11-21T00:00:00Z' } },
    });
  });

  it('reads any other call as kind other, still a valid event', () => {
    const event = accepted(normalize(viaEventBridge(record('iam.amazonaws.com', 'CreateUser', { userName: 'mallory' }), 'aws.iam')));
    expect(event.change).toEqual({ kind: 'other' });
    expect(event.eventName).toBe('CreateUser');
  });
});

describe('the record envelope', () => {
  it('takes id, source, name, time, account and region from the record', () => {
    const event = accepted(normalize(viaEventBridge(record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'k' }, { eventID: 'abc-123' }))));
    expect(event).toMatchObject({ id: 'abc-123', origin: 'cloudtrail', eventSource: 'ec2.amazonaws.com', eventName: 'CreateKeyPair', time: '2026-11-20T09:00:00Z', accountId: ACCOUNT, region: REGION });
  });

  it('falls back to the EventBridge account and region when the record lacks them', () => {
    const bare = record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'k' });
    delete bare['recipientAccountId'];
    delete bare['awsRegion'];
    const envelope = { ...viaEventBridge(bare), account: '999988887777', region: 'us-east-2' };
    expect(accepted(normalize(envelope))).toMatchObject({ accountId: '999988887777', region: 'us-east-2' });
  });

  it('converts an eventTime with an offset to UTC', () => {
    expect(accepted(normalize(record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'k' }, { eventTime: '2026-11-20T10:00:00+01:00' }))).time).toBe('2026-11-20T09:00:00.000Z');
  });

  it('records a failed call (errorCode) as a failure, and still reads what it tried', () => {
    const event = accepted(
      normalize(record('ec2.amazonaws.com', 'ImportKeyPair', { keyName: 'k' }, { errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized to perform this operation.' })),
    );
    expect(event.failure).toEqual({ errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized to perform this operation.' });
    expect(event.change).toEqual({ kind: 'key-pair', keyName: 'k', operation: 'import' });
    expect(accepted(normalize(record('ec2.amazonaws.com', 'ImportKeyPair', { keyName: 'k' }))).failure).toBeUndefined();
  });

  it('takes readOnly from the record, or derives it from the event name', () => {
    expect(accepted(normalize(record('ec2.amazonaws.com', 'DescribeInstances', {}, { readOnly: true }))).readOnly).toBe(true);
    for (const eventName of ['DescribeSecurityGroups', 'GetParameter', 'ListFunctions20150331', 'LookupEvents']) {
      const r = record('ec2.amazonaws.com', eventName, {});
      delete r['readOnly'];
      expect(accepted(normalize(r)).readOnly).toBe(true);
    }
    const write = record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'k' });
    delete write['readOnly'];
    expect(accepted(normalize(write)).readOnly).toBe(false);
  });

  it('keeps the record as raw, but not the access keys or session tokens in it', () => {
    const r = record('sts.amazonaws.com', 'AssumeRole', { roleArn: 'arn:aws:iam::111122223333:role/ReadOnly' }, {
      responseElements: { credentials: { accessKeyId: 'ASIAEXAMPLE000000001', sessionToken: 'IQoJtoken', expiration: 'Nov 20, 2026, 10:28:00 AM' } },
    });
    const event = accepted(normalize(viaEventBridge(r, 'aws.sts')));
    const raw = event.raw as typeof r & { userIdentity: Record<string, unknown>; responseElements: { credentials: Record<string, unknown> } };
    expect(raw.eventID).toBe(r['eventID']);
    expect(raw.requestParameters).toEqual(r['requestParameters']);
    expect(raw.userIdentity['arn']).toBe('arn:aws:iam::111122223333:user/alice');
    expect(JSON.stringify(event)).not.toContain('AKIAEXAMPLEALICE0001');
    expect(JSON.stringify(event)).not.toContain('ASIAEXAMPLE000000001');
    expect(JSON.stringify(event)).not.toContain('IQoJtoken');
    expect(raw.responseElements.credentials['expiration']).toBe('Nov 20, 2026, 10:28:00 AM');
    // the input itself is left as it was
    expect((r['userIdentity'] as Record<string, unknown>)['accessKeyId']).toBe('AKIAEXAMPLEALICE0001');
  });

  it.each(['eventID', 'eventName', 'eventSource', 'eventTime'])('rejects a record without %s as missing-field', (name) => {
    const r = record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'k' });
    delete r[name];
    expect(normalize(viaEventBridge(r))).toMatchObject({ rejected: true, code: 'missing-field' });
  });

  it('rejects a record whose eventTime is not a time, naming the event', () => {
    expect(normalize(record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'k' }, { eventTime: 'yesterday', eventID: 'e-1' }))).toMatchObject({
      rejected: true,
      code: 'invalid-field',
      eventId: 'e-1',
      eventName: 'CreateKeyPair',
    });
  });
});
