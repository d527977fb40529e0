/**
 * Organization mode: the sweep covers the member accounts too, each through its own clients
 * (the member role), and hands on events that name the account they were found in, so that
 * the responder acts there.
 */
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client, type DescribeInstancesCommandInput, type Instance, type SecurityGroup } from '@aws-sdk/client-ec2';
import { ListAccountsCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients, ClientTarget } from '../../functions/aws/clients';
import { AlertLimiter } from '../../functions/aws/state/alert-limiter';
import { ReplacementLedger } from '../../functions/aws/state/replacements';
import { found, notFound, type ContextReader } from '../../functions/core/context';
import type { ChangeEvent } from '../../functions/core/model';
import { policySchema } from '../../functions/core/policy/schema';
import { sweepAccounts, type SweepAccountList } from '../../functions/sweeper/accounts';
import { SweepCursorStore } from '../../functions/sweeper/cursor';
import { runSweep, type RespondSummary, type SweepDeps } from '../../functions/sweeper/sweep';
import { useDynalite } from '../helpers/dynalite';

const db = useDynalite();
const HOME = '111122223333';
const MEMBER = '222233334444';
const BROKEN = '555566667777';
const REGION = 'eu-west-1';
const GOLDEN = 'ami-0123456789abcdef0';
const NOW = new Date('2026-03-01T12:00:00Z');
const policy = policySchema.parse({ approvedAmis: { ids: [GOLDEN] } });

/** One EC2 client per account, each mocked on its own: what one account is asked never answers for another. */
const homeEc2 = new EC2Client({ region: REGION });
const memberEc2 = new EC2Client({ region: REGION });
const brokenEc2 = new EC2Client({ region: REGION });
const homeMock = mockClient(homeEc2);
const memberMock = mockClient(memberEc2);
const brokenMock = mockClient(brokenEc2);
const CLIENTS: Record<string, AwsClients> = {
  [HOME]: { ec2: homeEc2 } as unknown as AwsClients,
  [MEMBER]: { ec2: memberEc2 } as unknown as AwsClients,
  [BROKEN]: { ec2: brokenEc2 } as unknown as AwsClients,
};

const reader: ContextReader = {
  instance: async () => notFound(),
  securityGroup: async () => notFound(),
  image: async (id) => found({ imageId: id, ownerId: '999999999999' }),
  approvedAmiIds: async () => notFound(),
  tagWriter: async () => notFound(),
};

const openSsh = (id: string, owner: string): SecurityGroup => ({
  GroupId: id,
  GroupName: id,
  OwnerId: owner,
  VpcId: 'vpc-1',
  IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
  IpPermissionsEgress: [],
  Tags: [],
});
const instance = (id: string, over: Partial<Instance> = {}): Instance => ({
  InstanceId: id,
  ImageId: GOLDEN,
  State: { Name: 'running' },
  VpcId: 'vpc-1',
  Tags: [],
  NetworkInterfaces: [{ NetworkInterfaceId: `eni-${id}`, Groups: [{ GroupId: 'sg-0web' }], Attachment: { DeviceIndex: 0 } }],
  ...over,
});
const MEMBER_INSTANCE_PAGES: Record<string, { Reservations: { OwnerId: string; Instances: Instance[] }[]; NextToken?: string }> = {
  first: { Reservations: [{ OwnerId: MEMBER, Instances: [instance('i-0memberkey', { KeyName: 'ops' })] }], NextToken: 'member-2' },
  'member-2': { Reservations: [{ OwnerId: MEMBER, Instances: [instance('i-0memberbad', { ImageId: 'ami-0badbadbadbadbad0' })] }] },
};

const HOME_KEYS = ['sweep:sg-rule:sg-0home:ingress:tcp:22-22:0.0.0.0/0'];
const MEMBER_KEYS = ['sweep:sg-rule:sg-0member:ingress:tcp:22-22:0.0.0.0/0', 'sweep:launch:i-0memberkey:ssh-key-material', 'sweep:launch:i-0memberbad:unapproved-ami'];

beforeEach(() => {
  for (const mock of [homeMock, memberMock, brokenMock]) mock.reset();
  homeMock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [openSsh('sg-0home', HOME)] });
  homeMock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  memberMock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [openSsh('sg-0member', MEMBER)] });
  memberMock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => MEMBER_INSTANCE_PAGES[input.NextToken ?? 'first']);
});

const accountsOf = (...ids: string[]) => async (): Promise<SweepAccountList> => ({
  accounts: ids.map((accountId, n) => ({ accountId, home: n === 0 })),
  source: 'env',
  warnings: [],
});

async function makeDeps(over: Partial<SweepDeps> = {}) {
  const tables = await db.createTables();
  const client = db.client();
  const respond = jest.fn(async (_event: ChangeEvent, _options: { idempotencyKey: string }): Promise<RespondSummary> => ({ status: 'processed', decision: 'contain' }));
  const clientsFor = jest.fn((target: ClientTarget): AwsClients => {
    const clients = CLIENTS[target.accountId ?? ''];
    if (!clients) throw new Error(`no clients for ${JSON.stringify(target)}`);
    return clients;
  });
  const deps: SweepDeps = {
    regions: [REGION],
    clientsFor,
    readerFor: () => reader,
    policy: async () => policy,
    respond,
    ledger: new ReplacementLedger({ client, tableName: tables.state, now: () => NOW }),
    cursor: new SweepCursorStore({ client, tableName: tables.state, now: () => NOW }),
    alerts: new AlertLimiter({ client, tableName: tables.state, now: () => NOW }),
    now: () => NOW,
    remainingMs: () => 60_000,
    pageSize: 5,
    accounts: accountsOf(HOME, MEMBER),
    ...over,
  };
  return { deps, respond, clientsFor };
}

const keysOf = (respond: jest.Mock<Promise<RespondSummary>, [ChangeEvent, { idempotencyKey: string }]>) => respond.mock.calls.map(([, options]) => options.idempotencyKey);

describe('runSweep in Organization mode: every account, each with its own clients', () => {
  it('sweeps the home account, then the member account with clients for that account, and hands on events that name it', async () => {
    const { deps, respond, clientsFor } = await makeDeps();
    const result = await runSweep(deps);

    expect(clientsFor.mock.calls.map(([target]) => target)).toEqual([
      { accountId: HOME, region: REGION },
      { accountId: MEMBER, region: REGION },
    ]);
    expect(keysOf(respond)).toEqual([...HOME_KEYS, ...MEMBER_KEYS]);
    const accountOf = Object.fromEntries(respond.mock.calls.map(([event, options]) => [options.idempotencyKey, event.accountId]));
    expect(accountOf).toEqual({ [HOME_KEYS[0]]: HOME, ...Object.fromEntries(MEMBER_KEYS.map((k) => [k, MEMBER])) });
    expect(respond.mock.calls.every(([event]) => event.region === REGION && event.origin === 'sweep')).toBe(true);
    expect(memberMock).toHaveReceivedNthCommandWith(2, DescribeInstancesCommand, { NextToken: 'member-2', MaxResults: 5 });
    expect(result).toMatchObject({ complete: true, accounts: [{ accountId: HOME, home: true }, { accountId: MEMBER, home: false }], accountSource: 'env' });
    expect(result.violations.map((v) => v.accountId)).toEqual([HOME, MEMBER, MEMBER, MEMBER]);
  });

  it('names the swept account on the event even when EC2 reports no owner', async () => {
    memberMock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ ...openSsh('sg-0member', MEMBER), OwnerId: undefined }] });
    memberMock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance('i-0memberkey', { KeyName: 'ops' })] }] });
    const { deps, respond } = await makeDeps();
    await runSweep(deps);
    const memberEvents = respond.mock.calls.map(([event]) => event).filter((e) => e.resources.some((r) => r.id === 'sg-0member' || r.id === 'i-0memberkey'));
    expect(memberEvents.map((e) => e.accountId)).toEqual([MEMBER, MEMBER]);
  });

  it('saves a cursor in the second account and the next run resumes there, without sweeping the home account again', async () => {
    let budgetLeft = true;
    const { deps, respond } = await makeDeps({ remainingMs: () => (budgetLeft ? 60_000 : 0) });
    respond.mockImplementation(async (event) => {
      if (event.resources[0]?.id === 'i-0memberkey') budgetLeft = false; // the budget runs out on the member's first instance page
      return { status: 'processed', decision: 'contain' };
    });
    const first = await runSweep(deps);

    expect(first.complete).toBe(false);
    expect(first.cursor).toEqual({ accountId: MEMBER, region: REGION, kind: 'instances', nextToken: 'member-2' });
    expect(keysOf(respond)).toEqual([...HOME_KEYS, ...MEMBER_KEYS.slice(0, 2)]);

    homeMock.resetHistory();
    memberMock.resetHistory();
    respond.mockClear();
    budgetLeft = true;
    const second = await runSweep(deps);

    expect(second.startedFrom).toEqual({ accountId: MEMBER, region: REGION, kind: 'instances', nextToken: 'member-2' });
    expect(homeMock).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
    expect(homeMock).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(memberMock).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
    expect(memberMock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    expect(memberMock).toHaveReceivedCommandWith(DescribeInstancesCommand, { NextToken: 'member-2' });
    expect(keysOf(respond)).toEqual([MEMBER_KEYS[2]]);
    expect(second.complete).toBe(true);
  });

  it('starts over, and says why, when the saved cursor names an account no longer swept', async () => {
    const { deps, respond } = await makeDeps();
    await deps.cursor.write({ accountId: '999988887777', region: REGION, kind: 'instances', nextToken: 'gone' });
    const result = await runSweep(deps);

    expect(result.warnings).toContain('the saved cursor names account 999988887777, which is no longer swept: starting over');
    expect(result.startedFrom).toBeUndefined();
    expect(keysOf(respond)).toEqual([...HOME_KEYS, ...MEMBER_KEYS]);
    // Both of the member's instance pages are read again: the stale NextToken is not used.
    expect(memberMock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(memberMock).not.toHaveReceivedCommandWith(DescribeInstancesCommand, { NextToken: 'gone' });
  });

  it('skips a member account whose role is refused, with a warning, and still sweeps the accounts after it', async () => {
    const refused = Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
    brokenMock.on(DescribeSecurityGroupsCommand).rejects(refused);
    brokenMock.on(DescribeInstancesCommand).rejects(refused);
    const { deps, respond } = await makeDeps({ accounts: accountsOf(HOME, BROKEN, MEMBER) });
    const result = await runSweep(deps);

    expect(result.complete).toBe(true);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(new RegExp(`^account ${BROKEN} in ${REGION} not swept .*AccessDenied`));
    expect(keysOf(respond)).toEqual([...HOME_KEYS, ...MEMBER_KEYS]);
  });

  it('fails the run, as before, when the home account itself cannot be read', async () => {
    homeMock.on(DescribeSecurityGroupsCommand).rejects(Object.assign(new Error('throttled for good'), { name: 'RequestLimitExceeded' }));
    const { deps, respond } = await makeDeps();
    await expect(runSweep(deps)).rejects.toThrow('throttled for good');
    expect(respond).not.toHaveBeenCalled();
  });

  it('sweeps the home account only, with the warning in the result, when the organization cannot be listed', async () => {
    const organizations = new OrganizationsClient({ region: 'us-east-1' });
    mockClient(organizations)
      .on(ListAccountsCommand)
      .rejects(new OrganizationsServiceException({ name: 'AWSOrganizationsNotInUseException', $fault: 'client', $metadata: {}, message: 'not in an organization' }));
    const env = { DRIFTWARDEN_HOME_ACCOUNT_ID: HOME, DRIFTWARDEN_MEMBER_ROLE_NAME: 'driftwarden-member' };
    const { deps, respond, clientsFor } = await makeDeps({ accounts: () => sweepAccounts({ env, organizations: () => organizations }) });
    const result = await runSweep(deps);

    expect(result.complete).toBe(true);
    expect(result.accounts).toEqual([{ accountId: HOME, home: true }]);
    expect(result.warnings).toEqual([expect.stringContaining('AWSOrganizationsNotInUseException')]);
    expect(clientsFor.mock.calls.map(([target]) => target.accountId)).toEqual([HOME]);
    expect(keysOf(respond)).toEqual(HOME_KEYS);
  });

  it('sweeps every ACTIVE account ListAccounts returns, each with clients for that account', async () => {
    const organizations = new OrganizationsClient({ region: 'us-east-1' });
    mockClient(organizations)
      .on(ListAccountsCommand)
      .resolves({ Accounts: [{ Id: HOME, State: 'ACTIVE' }, { Id: BROKEN, State: 'SUSPENDED' }, { Id: MEMBER, State: 'ACTIVE' }] });
    const env = { DRIFTWARDEN_HOME_ACCOUNT_ID: HOME, DRIFTWARDEN_MEMBER_ROLE_NAME: 'driftwarden-member' };
    const { deps, clientsFor } = await makeDeps({ accounts: () => sweepAccounts({ env, organizations: () => organizations }) });
    const result = await runSweep(deps);

    expect(result.accountSource).toBe('organization');
    expect(clientsFor.mock.calls.map(([target]) => target)).toEqual([
      { accountId: HOME, region: REGION },
      { accountId: MEMBER, region: REGION },
    ]);
    expect(brokenMock).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
  });
});
