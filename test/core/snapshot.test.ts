import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../functions/core/errors';
import { SnapshotContextReader, loadSnapshotFile, parseSnapshot, type AccountSnapshotInput } from '../../functions/core/snapshot';

const SAMPLE = join(__dirname, '../../events/account-snapshot.json');

const minimal = (extra: Partial<AccountSnapshotInput> = {}): AccountSnapshotInput => ({
  accountId: '111122223333',
  region: 'eu-west-1',
  instances: [
    {
      instanceId: 'i-0a1b2c3d4e5f60001',
      state: 'running',
      imageId: 'ami-0a1b2c3d4e5f60001',
      tags: { 'aws:cloudformation:stack-name': 'web-prod', 'aws:cloudformation:logical-id': 'WebServer', 'aws:cloudformation:stack-id': 'arn:aws:cloudformation:eu-west-1:111122223333:stack/web-prod/x' },
      networkInterfaces: [{ networkInterfaceId: 'eni-0a1b2c3d4e5f60001', groups: ['sg-0a1b2c3d4e5f60001'], deviceIndex: 0 }],
      volumes: [{ volumeId: 'vol-0a1b2c3d4e5f60001', deviceName: '/dev/xvda' }],
    },
    { instanceId: 'i-0a1b2c3d4e5f60002', tags: { 'aws:autoscaling:groupName': 'api-asg' } },
  ],
  securityGroups: [{ groupId: 'sg-0a1b2c3d4e5f60001', groupName: 'web' }],
  images: [{ imageId: 'ami-0a1b2c3d4e5f60001', ownerId: '444455556666', creationDate: '2026-11-12T03:00:00.000Z' }],
  ssmParameters: {
    '/driftwarden/golden-amis/al2023': 'ami-0a1b2c3d4e5f60001',
    '/driftwarden/golden-amis/legacy': 'ami-0a1b2c3d4e5f60002, ami-0a1b2c3d4e5f60003',
    '/driftwarden/golden-amis-old/x': 'ami-0000000000000000f',
    '/driftwarden/kill-switch': 'off',
  },
  tagWriters: { 'i-0a1b2c3d4e5f60001': { 'driftwarden:exempt-until': { arn: 'arn:aws:iam::111122223333:role/pipeline-deploy', time: '2026-11-20T08:00:00Z' } } },
  ...extra,
});

const reader = (extra: Partial<AccountSnapshotInput> = {}) => new SnapshotContextReader(parseSnapshot(minimal(extra)));

describe('account snapshot as a ContextReader', () => {
  it('answers an instance with its interfaces, volumes, and stack membership read from its tags', async () => {
    const lookup = await reader().instance('i-0a1b2c3d4e5f60001');
    expect(lookup).toEqual({
      status: 'found',
      value: {
        instanceId: 'i-0a1b2c3d4e5f60001',
        state: 'running',
        imageId: 'ami-0a1b2c3d4e5f60001',
        tags: expect.objectContaining({ 'aws:cloudformation:stack-name': 'web-prod' }),
        networkInterfaces: [{ networkInterfaceId: 'eni-0a1b2c3d4e5f60001', groups: ['sg-0a1b2c3d4e5f60001'], deviceIndex: 0 }],
        volumes: [{ volumeId: 'vol-0a1b2c3d4e5f60001', deviceName: '/dev/xvda' }],
        stack: { stackName: 'web-prod', logicalId: 'WebServer', stackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/web-prod/x' },
      },
    });
  });

  it('reads the Auto Scaling group from aws:autoscaling:groupName, and defaults state and lists', async () => {
    expect(await reader().instance('i-0a1b2c3d4e5f60002')).toEqual({
      status: 'found',
      value: { instanceId: 'i-0a1b2c3d4e5f60002', state: 'running', tags: { 'aws:autoscaling:groupName': 'api-asg' }, networkInterfaces: [], volumes: [], autoScalingGroup: 'api-asg' },
    });
  });

  it('prefers explicit autoScalingGroup and stack over the tags', async () => {
    const r = reader({ instances: [{ instanceId: 'i-0a1b2c3d4e5f60009', tags: { 'aws:autoscaling:groupName': 'from-tag' }, autoScalingGroup: 'explicit', stack: { stackName: 's' } }] });
    expect(await r.instance('i-0a1b2c3d4e5f60009')).toMatchObject({ status: 'found', value: { autoScalingGroup: 'explicit', stack: { stackName: 's' } } });
  });

  it('answers not-found for an id absent from a complete snapshot, and unknown when the snapshot is incomplete', async () => {
    expect(await reader().instance('i-0fffffffffffffff0')).toEqual({ status: 'not-found' });
    expect(await reader().securityGroup('sg-0fffffffffffffff0')).toEqual({ status: 'not-found' });
    expect(await reader().image('ami-0fffffffffffffff0')).toEqual({ status: 'not-found' });
    const incomplete = reader({ complete: false });
    expect(await incomplete.instance('i-0fffffffffffffff0')).toMatchObject({ status: 'unknown', reason: expect.stringContaining('incomplete') });
    expect(await incomplete.tagWriter('i-0fffffffffffffff0', 'k')).toMatchObject({ status: 'unknown' });
    expect(await incomplete.instance('i-0a1b2c3d4e5f60001')).toMatchObject({ status: 'found' });
  });

  it('answers unknown for every lookup listed as unavailable, to show failing closed', async () => {
    const r = reader({ unavailable: ['i-0a1b2c3d4e5f60001', 'sg-0a1b2c3d4e5f60001', 'ami-0a1b2c3d4e5f60001', 'approvedAmiIds'] });
    for (const lookup of [
      await r.instance('i-0a1b2c3d4e5f60001'),
      await r.securityGroup('sg-0a1b2c3d4e5f60001'),
      await r.image('ami-0a1b2c3d4e5f60001'),
      await r.approvedAmiIds('/driftwarden/golden-amis/'),
      await r.tagWriter('i-0a1b2c3d4e5f60001', 'driftwarden:exempt-until'),
    ]) {
      expect(lookup).toMatchObject({ status: 'unknown', reason: expect.stringContaining('unavailable') });
    }
    expect(await r.instance('i-0a1b2c3d4e5f60002')).toMatchObject({ status: 'found' });
    expect(await reader({ unavailable: ['/driftwarden/golden-amis'] }).approvedAmiIds('/driftwarden/golden-amis')).toMatchObject({ status: 'unknown' });
    expect(await reader({ unavailable: ['i-0a1b2c3d4e5f60001/driftwarden:exempt-until'] }).tagWriter('i-0a1b2c3d4e5f60001', 'driftwarden:exempt-until')).toMatchObject({ status: 'unknown' });
  });

  it('lists every approved AMI under the SSM path, splitting StringLists, and nothing from a sibling path', async () => {
    const expected = { status: 'found', value: ['ami-0a1b2c3d4e5f60001', 'ami-0a1b2c3d4e5f60002', 'ami-0a1b2c3d4e5f60003'] };
    expect(await reader().approvedAmiIds('/driftwarden/golden-amis/')).toEqual(expected);
    expect(await reader().approvedAmiIds('/driftwarden/golden-amis')).toEqual(expected);
    expect(await reader().approvedAmiIds('/nothing/here/')).toEqual({ status: 'found', value: [] });
    expect(await reader({ complete: false }).approvedAmiIds('/nothing/here/')).toMatchObject({ status: 'unknown' });
  });

  it('answers who last wrote a tag', async () => {
    expect(await reader().tagWriter('i-0a1b2c3d4e5f60001', 'driftwarden:exempt-until')).toEqual({
      status: 'found',
      value: { arn: 'arn:aws:iam::111122223333:role/pipeline-deploy', time: '2026-11-20T08:00:00Z' },
    });
    expect(await reader().tagWriter('i-0a1b2c3d4e5f60001', 'other')).toEqual({ status: 'not-found' });
  });

  it('hands out copies, so a caller cannot change the snapshot', async () => {
    const r = reader();
    const first = await r.instance('i-0a1b2c3d4e5f60001');
    if (first.status !== 'found') throw new Error('expected found');
    first.value.tags['x'] = 'changed';
    first.value.networkInterfaces[0]!.groups.push('sg-evil');
    const second = await r.instance('i-0a1b2c3d4e5f60001');
    expect(second.status === 'found' && second.value.tags['x']).toBeUndefined();
    expect(second.status === 'found' && second.value.networkInterfaces[0]!.groups).toEqual(['sg-0a1b2c3d4e5f60001']);
  });
});

describe('parseSnapshot', () => {
  it('rejects a wrong field with an InputError naming its path', () => {
    const bad = minimal();
    (bad.instances![0] as Record<string, unknown>)['networkInterfaces'] = [{ networkInterfaceId: 'nic-1', groups: [] }];
    let error: unknown;
    try {
      parseSnapshot(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toContain('instances[0].networkInterfaces[0].networkInterfaceId');
  });

  it('rejects duplicate ids, unknown fields and a missing account', () => {
    expect(() => parseSnapshot(minimal({ instances: [{ instanceId: 'i-0a1b2c3d4e5f60001' }, { instanceId: 'i-0a1b2c3d4e5f60001' }] }))).toThrow(/instances\[1\]: duplicate id/);
    expect(() => parseSnapshot({ ...minimal(), instancez: [] })).toThrow(InputError);
    const { accountId: _a, ...noAccount } = minimal();
    expect(() => parseSnapshot(noAccount)).toThrow(/accountId/);
    expect(() => parseSnapshot('not an object')).toThrow(InputError);
  });
});

describe('loadSnapshotFile', () => {
  it('loads the sample snapshot of the events', async () => {
    const snapshot = loadSnapshotFile(SAMPLE);
    expect(snapshot.accountId).toBe('111122223333');
    const r = new SnapshotContextReader(snapshot);
    expect(await r.instance('i-0a1b2c3d4e5f60002')).toMatchObject({
      status: 'found',
      value: { autoScalingGroup: 'api-asg', stack: { stackName: 'api-prod' }, targetGroups: [expect.stringContaining('targetgroup/api-prod-tg')] },
    });
    expect(await r.approvedAmiIds('/driftwarden/golden-amis/')).toEqual({ status: 'found', value: ['ami-0a1b2c3d4e5f60001', 'ami-0a1b2c3d4e5f60002'] });
  });

  it('throws InputError for a missing file and for a file that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'snapshot-'));
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ nope');
    expect(() => loadSnapshotFile(join(dir, 'absent.json'))).toThrow(InputError);
    expect(() => loadSnapshotFile(notJson)).toThrow(/not JSON/);
  });
});
