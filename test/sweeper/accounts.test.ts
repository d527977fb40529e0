import { ListAccountsCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { sweepAccounts } from '../../functions/sweeper/accounts';

const HOME = '111122223333';
const MEMBER_A = '222233334444';
const MEMBER_B = '555566667777';
const SUSPENDED = '888899990000';

const organizations = mockClient(OrganizationsClient);
const client = () => new OrganizationsClient({ region: 'us-east-1' });
const orgEnv = { DRIFTWARDEN_HOME_ACCOUNT_ID: HOME, DRIFTWARDEN_MEMBER_ROLE_NAME: 'driftwarden-member' };

beforeEach(() => organizations.reset());

describe('sweepAccounts: which accounts the sweep covers', () => {
  it('takes DRIFTWARDEN_SWEEP_ACCOUNTS when set, the home account first and once, without asking Organizations', async () => {
    const list = await sweepAccounts({
      env: { ...orgEnv, DRIFTWARDEN_SWEEP_ACCOUNTS: ` ${MEMBER_A}, ${HOME},${MEMBER_B},${MEMBER_A}` },
      organizations: client,
    });
    expect(list).toEqual({
      accounts: [{ accountId: HOME, home: true }, { accountId: MEMBER_A, home: false }, { accountId: MEMBER_B, home: false }],
      source: 'env',
      warnings: [],
    });
    expect(organizations).not.toHaveReceivedCommand(ListAccountsCommand);
  });

  it('skips an entry of DRIFTWARDEN_SWEEP_ACCOUNTS that is not an account id, and says so', async () => {
    const list = await sweepAccounts({ env: { ...orgEnv, DRIFTWARDEN_SWEEP_ACCOUNTS: `${MEMBER_A},prod` }, organizations: client });
    expect(list.accounts.map((a) => a.accountId)).toEqual([HOME, MEMBER_A]);
    expect(list.warnings).toEqual(['DRIFTWARDEN_SWEEP_ACCOUNTS: "prod" not a 12-digit account id: skipped']);
  });

  it('in Organization mode, lists every ACTIVE account through every page of ListAccounts, skipping suspended ones', async () => {
    organizations
      .on(ListAccountsCommand)
      .resolvesOnce({
        Accounts: [
          { Id: HOME, State: 'ACTIVE' },
          { Id: MEMBER_A, State: 'ACTIVE' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        Accounts: [
          { Id: SUSPENDED, State: 'SUSPENDED', Status: 'SUSPENDED' },
          { Id: MEMBER_B, Status: 'ACTIVE' },
        ],
      });
    const list = await sweepAccounts({ env: orgEnv, organizations: client });

    expect(organizations).toHaveReceivedCommandTimes(ListAccountsCommand, 2);
    expect(organizations).toHaveReceivedNthCommandWith(2, ListAccountsCommand, { NextToken: 'page-2' });
    expect(list).toEqual({
      accounts: [{ accountId: HOME, home: true }, { accountId: MEMBER_A, home: false }, { accountId: MEMBER_B, home: false }],
      source: 'organization',
      warnings: [],
    });
  });

  it('sweeps the home account only, with a warning, when ListAccounts is refused (not the management account)', async () => {
    organizations.on(ListAccountsCommand).rejects(
      new OrganizationsServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'You don’t have permissions to access this resource.' }),
    );
    const list = await sweepAccounts({ env: orgEnv, organizations: client });

    expect(list.accounts).toEqual([{ accountId: HOME, home: true }]);
    expect(list.source).toBe('home');
    expect(list.warnings).toHaveLength(1);
    expect(list.warnings[0]).toContain('AccessDeniedException');
    expect(list.warnings[0]).toContain('sweeping the home account only');
    expect(list.warnings[0]).toContain('management account or a delegated administrator');
  });

  it('sweeps the home account only, asking nobody, outside Organization mode', async () => {
    const list = await sweepAccounts({ env: { DRIFTWARDEN_HOME_ACCOUNT_ID: HOME }, organizations: client });
    expect(list).toEqual({ accounts: [{ accountId: HOME, home: true }], source: 'home', warnings: [] });
    expect(organizations).not.toHaveReceivedCommand(ListAccountsCommand);
  });

  it('keeps the home account without an id when none is configured (the clients then use their default account)', async () => {
    const list = await sweepAccounts({ env: {}, organizations: client });
    expect(list.accounts).toEqual([{ home: true }]);
  });

  it('never sweeps a listed account it could only reach with the home credentials (no member role): home only, and why', async () => {
    const list = await sweepAccounts({ env: { DRIFTWARDEN_HOME_ACCOUNT_ID: HOME, DRIFTWARDEN_SWEEP_ACCOUNTS: MEMBER_A }, organizations: client });
    expect(list.accounts).toEqual([{ accountId: HOME, home: true }]);
    expect(list.warnings).toEqual([`accounts ${MEMBER_A} not swept: DRIFTWARDEN_MEMBER_ROLE_NAME not set, so no member role can be assumed there; sweeping the home account only`]);
  });

  it('never sweeps a member account when the home account is unknown (the role would never be assumed)', async () => {
    const list = await sweepAccounts({ env: { DRIFTWARDEN_MEMBER_ROLE_NAME: 'driftwarden-member', DRIFTWARDEN_SWEEP_ACCOUNTS: MEMBER_A }, organizations: client });
    expect(list.accounts).toEqual([{ home: true }]);
    expect(list.warnings[0]).toContain('DRIFTWARDEN_HOME_ACCOUNT_ID not set');
  });
});
