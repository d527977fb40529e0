import { normalize } from '../../../functions/core/normalize';
import type { ConfigItemChange } from '../../../functions/core/model';
import { ACCOUNT, REGION, accepted } from './fixtures';

const permission = (protocol: string, port: number | undefined, cidrs: string[], extra: Record<string, unknown> = {}) => ({
  ipProtocol: protocol,
  ...(port !== undefined ? { fromPort: port, toPort: port } : {}),
  userIdGroupPairs: [],
  ipv6Ranges: [],
  prefixListIds: [],
  ipRanges: cidrs,
  ipv4Ranges: cidrs.map((cidrIp) => ({ cidrIp })),
  ...extra,
});

function configEvent(item: Record<string, unknown>, diff?: unknown, detailExtra: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'c0000001-3c4d-4e5f-8a60-8293a4b5c6d7',
    'detail-type': 'Config Configuration Item Change',
    source: 'aws.config',
    account: ACCOUNT,
    time: '2026-11-20T09:05:00Z',
    region: REGION,
    resources: [],
    detail: {
      recordVersion: '1.3',
      messageType: 'ConfigurationItemChangeNotification',
      notificationCreationTime: '2026-11-20T09:05:01.000Z',
      ...(diff !== undefined ? { configurationItemDiff: diff } : {}),
      configurationItem: {
        configurationItemVersion: '1.3',
        configurationItemCaptureTime: '2026-11-20T09:05:00.000Z',
        configurationStateId: 1795165000005,
        awsAccountId: ACCOUNT,
        configurationItemStatus: 'OK',
        awsRegion: REGION,
        ...item,
      },
      ...detailExtra,
    },
  };
}

const configChange = (input: unknown): ConfigItemChange => {
  const change = accepted(normalize(input)).change;
  if (change.kind !== 'config-item') throw new Error(`expected a config item, got ${change.kind}`);
  return change;
};

const sshWorld = permission('tcp', 22, ['0.0.0.0/0']);
const httpsPrivate = permission('tcp', 443, ['10.0.0.0/8']);
const sgItem = (ingress: unknown[]) => ({
  resourceType: 'AWS::EC2::SecurityGroup',
  resourceId: 'sg-0a1b2c3d4e5f60003',
  tags: { Name: 'debug-access' },
  configuration: {
    groupId: 'sg-0a1b2c3d4e5f60003',
    ipPermissions: ingress,
    ipPermissionsEgress: [permission('-1', undefined, ['0.0.0.0/0'], { ipv6Ranges: [{ cidrIpv6: '::/0' }] })],
  },
});

describe('Config configuration-item changes', () => {
  it('identifies the change as config:<resourceId>:<configurationStateId>, with the unknown Config actor', () => {
    const event = accepted(normalize(configEvent(sgItem([httpsPrivate]))));
    expect(event).toMatchObject({
      id: 'config:sg-0a1b2c3d4e5f60003:1795165000005',
      origin: 'config',
      eventSource: 'config.amazonaws.com',
      eventName: 'ConfigurationItemChange',
      time: '2026-11-20T09:05:00.000Z',
      accountId: ACCOUNT,
      region: REGION,
      readOnly: false,
      actor: { type: 'Unknown', name: 'unknown (AWS Config)' },
      resources: [{ type: 'security-group', id: 'sg-0a1b2c3d4e5f60003' }],
    });
    expect(event.raw).toEqual(configEvent(sgItem([httpsPrivate])).detail);
  });

  it('falls back to the capture time when there is no configurationStateId', () => {
    const input = configEvent(sgItem([]));
    delete (input.detail.configurationItem as Record<string, unknown>)['configurationStateId'];
    expect(accepted(normalize(input)).id).toBe('config:sg-0a1b2c3d4e5f60003:2026-11-20T09:05:00.000Z');
  });

  it('reads a security group\'s ingress and egress rules in Config\'s shape, one per source, ipRanges and ipv4Ranges folded', () => {
    expect(configChange(configEvent(sgItem([httpsPrivate, sshWorld]))).rules).toEqual([
      { direction: 'ingress', protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '10.0.0.0/8' },
      { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' },
      { direction: 'egress', protocol: '-1', cidrIpv4: '0.0.0.0/0' },
      { direction: 'egress', protocol: '-1', cidrIpv6: '::/0' },
    ]);
  });

  it('reads referenced groups (userIdGroupPairs) and prefix lists', () => {
    const rules = configChange(
      configEvent(sgItem([permission('tcp', 5432, [], { userIdGroupPairs: [{ groupId: 'sg-0a1b2c3d4e5f60002', userId: ACCOUNT }], prefixListIds: [{ prefixListId: 'pl-0a1b2c3d4e5f60001' }] })])),
    ).rules;
    expect(rules?.filter((r) => r.direction === 'ingress')).toEqual([
      { direction: 'ingress', protocol: 'tcp', fromPort: 5432, toPort: 5432, prefixListId: 'pl-0a1b2c3d4e5f60001' },
      { direction: 'ingress', protocol: 'tcp', fromPort: 5432, toPort: 5432, referencedGroupId: 'sg-0a1b2c3d4e5f60002' },
    ]);
  });

  it('computes addedRules from the diff: a created permission is added', () => {
    const change = configChange(
      configEvent(sgItem([httpsPrivate, sshWorld]), {
        changeType: 'UPDATE',
        changedProperties: { 'Configuration.IpPermissions.1': { previousValue: null, updatedValue: sshWorld, changeType: 'CREATE' } },
      }),
    );
    expect(change.changeType).toBe('UPDATE');
    expect(change.addedRules).toEqual([{ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }]);
  });

  it('compares the diff as a whole, so a permission shifted to another index is not counted as added', () => {
    const change = configChange(
      configEvent(sgItem([sshWorld, httpsPrivate]), {
        changeType: 'UPDATE',
        changedProperties: {
          'Configuration.IpPermissions.0': { previousValue: httpsPrivate, updatedValue: sshWorld, changeType: 'UPDATE' },
          'Configuration.IpPermissions.1': { previousValue: null, updatedValue: httpsPrivate, changeType: 'CREATE' },
        },
      }),
    );
    expect(change.addedRules).toEqual([{ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }]);
  });

  it('finds a CIDR added to an existing permission, and egress additions', () => {
    const before = permission('tcp', 22, ['10.0.0.0/8']);
    const after = permission('tcp', 22, ['10.0.0.0/8', '0.0.0.0/0']);
    const change = configChange(
      configEvent(sgItem([after]), {
        changeType: 'UPDATE',
        changedProperties: {
          'Configuration.IpPermissions.0': { previousValue: before, updatedValue: after, changeType: 'UPDATE' },
          'Configuration.IpPermissionsEgress.1': { previousValue: null, updatedValue: permission('udp', 53, ['0.0.0.0/0']), changeType: 'CREATE' },
        },
      }),
    );
    expect(change.addedRules).toEqual([
      { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' },
      { direction: 'egress', protocol: 'udp', fromPort: 53, toPort: 53, cidrIpv4: '0.0.0.0/0' },
    ]);
  });

  it('treats every rule of a created group as added, and a removal as adding nothing', () => {
    expect(configChange(configEvent(sgItem([sshWorld]), { changeType: 'CREATE', changedProperties: {} })).addedRules).toHaveLength(3);
    expect(
      configChange(
        configEvent(sgItem([]), { changeType: 'UPDATE', changedProperties: { 'Configuration.IpPermissions.0': { previousValue: sshWorld, updatedValue: null, changeType: 'DELETE' } } }),
      ).addedRules,
    ).toEqual([]);
  });

  it('leaves addedRules out when an updated item carries no diff, and derives the change type from the status', () => {
    const updated = configChange(configEvent(sgItem([sshWorld])));
    expect(updated.changeType).toBe('UPDATE');
    expect(updated.addedRules).toBeUndefined();
    const discovered = configChange(configEvent({ ...sgItem([sshWorld]), configurationItemStatus: 'ResourceDiscovered' }));
    expect(discovered.changeType).toBe('CREATE');
    expect(discovered.addedRules).toEqual(discovered.rules);
    expect(configChange(configEvent({ ...sgItem([]), configurationItemStatus: 'ResourceDeleted' })).changeType).toBe('DELETE');
  });

  it('reads an instance item\'s AMI, key and tags', () => {
    const event = accepted(
      normalize(
        configEvent(
          {
            resourceType: 'AWS::EC2::Instance',
            resourceId: 'i-0a1b2c3d4e5f60003',
            tags: { Name: 'debug-box' },
            configuration: { instanceId: 'i-0a1b2c3d4e5f60003', imageId: 'ami-0fedcba9876543210', keyName: 'ops-laptop', tags: [{ key: 'Team', value: 'ops' }] },
          },
          { changeType: 'CREATE', changedProperties: {} },
        ),
      ),
    );
    expect(event.change).toEqual({
      kind: 'config-item',
      resourceType: 'AWS::EC2::Instance',
      resourceId: 'i-0a1b2c3d4e5f60003',
      changeType: 'CREATE',
      status: 'OK',
      oversized: false,
      imageId: 'ami-0fedcba9876543210',
      keyName: 'ops-laptop',
      tags: { Name: 'debug-box', Team: 'ops' },
    });
    expect(event.resources).toEqual([
      { type: 'instance', id: 'i-0a1b2c3d4e5f60003' },
      { type: 'image', id: 'ami-0fedcba9876543210' },
    ]);
  });

  it('reads an oversized notification from its summary, as oversized with no rules', () => {
    const input = {
      ...configEvent({}),
      detail: {
        recordVersion: '1.0',
        messageType: 'OversizedConfigurationItemChangeNotification',
        notificationCreationTime: '2026-11-20T09:31:13.031Z',
        configurationItemSummary: {
          changeType: 'UPDATE',
          configurationItemCaptureTime: '2026-11-20T09:31:13.031Z',
          configurationStateId: 1795166000031,
          awsAccountId: ACCOUNT,
          configurationItemStatus: 'OK',
          resourceType: 'AWS::EC2::SecurityGroup',
          resourceId: 'sg-0a1b2c3d4e5f60001',
          awsRegion: REGION,
        },
        s3DeliverySummary: { s3BucketLocation: 'config-bucket/AWSLogs/111122223333/Config/eu-west-1/item.json.gz' },
      },
    };
    const event = accepted(normalize(input));
    expect(event.id).toBe('config:sg-0a1b2c3d4e5f60001:1795166000031');
    expect(event.change).toEqual({ kind: 'config-item', resourceType: 'AWS::EC2::SecurityGroup', resourceId: 'sg-0a1b2c3d4e5f60001', changeType: 'UPDATE', status: 'OK', oversized: true });
    expect((event.raw as { s3DeliverySummary: unknown }).s3DeliverySummary).toEqual(input.detail.s3DeliverySummary);
  });

  it('accepts the Config notification bare, without the EventBridge envelope', () => {
    expect(accepted(normalize(configEvent(sgItem([])).detail)).id).toBe('config:sg-0a1b2c3d4e5f60003:1795165000005');
  });

  it.each(['resourceType', 'resourceId'])('rejects an item without %s as missing-field', (name) => {
    const input = configEvent(sgItem([]));
    delete (input.detail.configurationItem as Record<string, unknown>)[name];
    expect(normalize(input)).toMatchObject({ rejected: true, code: 'missing-field' });
  });

  it('rejects a notification with neither configurationItem nor summary', () => {
    const input = configEvent(sgItem([]));
    delete (input.detail as Record<string, unknown>)['configurationItem'];
    expect(normalize(input)).toMatchObject({ rejected: true, code: 'missing-field' });
  });
});
