/**
 * Which accounts the sweeper covers.
 *
 * 1. DRIFTWARDEN_SWEEP_ACCOUNTS (comma-separated account ids) when set: exactly those, plus
 *    the home account.
 * 2. Otherwise, in Organization mode (DRIFTWARDEN_MEMBER_ROLE_NAME set): every ACTIVE account
 *    of the organization, from organizations:ListAccounts (paged). That call is answered only
 *    in the organization's management account or in an account registered as a delegated
 *    administrator (for a service, e.g. `aws organizations register-delegated-administrator`):
 *    anywhere else it is refused. A refused or failed call never fails the sweep: the home
 *    account is swept alone and a warning says why (set DRIFTWARDEN_SWEEP_ACCOUNTS there).
 * 3. Otherwise the home account only.
 *
 * The home account (DRIFTWARDEN_HOME_ACCOUNT_ID) is always swept, first, with the function's
 * own credentials; every other account through the member role (functions/aws/clients.ts).
 * A member account can be named only when both the member role and the home account are
 * known: clientsFor uses the home credentials for any account it cannot assume a role into,
 * so sweeping "another" account without them would sweep the home account again under the
 * wrong account id. Such accounts are skipped with a warning (fail closed).
 */
import type { Account, OrganizationsClient } from '@aws-sdk/client-organizations';
import { describeAwsError } from '../aws/aws-errors';
import { clientSettingsFromEnv } from '../aws/clients';

/** The organization's member list, read from the home account. */
export const IAM_ACTIONS = ['organizations:ListAccounts'] as const;

/** One account to sweep; accountId is absent only for a home account whose id is not configured. */
export interface SweepAccount {
  accountId?: string;
  /** The home account: swept with the function's own credentials. */
  home: boolean;
}

export interface SweepAccountList {
  /** The home account first, then the others in the order they were listed. */
  accounts: SweepAccount[];
  /** Where the list came from. */
  source: 'env' | 'organization' | 'home';
  warnings: string[];
}

export interface SweepAccountsOptions {
  env?: NodeJS.ProcessEnv;
  /** The Organizations client (home credentials). Default: a new client, region from AWS_REGION. */
  organizations?: () => OrganizationsClient;
}

const ACCOUNT_ID = /^\d{12}$/;

/** The accounts of one sweep (see the module comment). Never throws: failures become warnings. */
export async function sweepAccounts(options: SweepAccountsOptions = {}): Promise<SweepAccountList> {
  const env = options.env ?? process.env;
  const settings = clientSettingsFromEnv(env);
  const home = settings.homeAccountId;
  const homeEntry: SweepAccount = { ...(home ? { accountId: home } : {}), home: true };
  const warnings: string[] = [];

  let others: string[];
  let source: SweepAccountList['source'];
  const listed = (env.DRIFTWARDEN_SWEEP_ACCOUNTS ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (listed.length > 0) {
    source = 'env';
    const bad = listed.filter((a) => !ACCOUNT_ID.test(a));
    if (bad.length > 0) warnings.push(`DRIFTWARDEN_SWEEP_ACCOUNTS: ${bad.map((a) => JSON.stringify(a)).join(', ')} not a 12-digit account id: skipped`);
    others = listed.filter((a) => ACCOUNT_ID.test(a));
  } else if (settings.memberRoleName) {
    source = 'organization';
    try {
      // The Organizations client is loaded only in Organization mode, when it is first needed.
      const client = options.organizations?.() ?? new (await import('@aws-sdk/client-organizations')).OrganizationsClient({ maxAttempts: settings.maxAttempts, retryMode: settings.retryMode });
      others = await activeOrganizationAccounts(client);
    } catch (error) {
      warnings.push(
        `the organization's accounts could not be listed (organizations:ListAccounts: ${describeAwsError(error)}); sweeping the home account only. ` +
          'ListAccounts is answered only in the management account or a delegated administrator: deploy there, or list the accounts in DRIFTWARDEN_SWEEP_ACCOUNTS (template parameter SweepAccounts)',
      );
      return { accounts: [homeEntry], source: 'home', warnings };
    }
  } else {
    return { accounts: [homeEntry], source: 'home', warnings };
  }

  const members = [...new Set(others)].filter((a) => a !== home);
  if (members.length > 0 && (!home || !settings.memberRoleName)) {
    const missing = [!home ? 'DRIFTWARDEN_HOME_ACCOUNT_ID' : '', !settings.memberRoleName ? 'DRIFTWARDEN_MEMBER_ROLE_NAME' : ''].filter((m) => m !== '').join(' and ');
    warnings.push(`accounts ${members.join(', ')} not swept: ${missing} not set, so no member role can be assumed there; sweeping the home account only`);
    return { accounts: [homeEntry], source, warnings };
  }
  return { accounts: [homeEntry, ...members.map((accountId) => ({ accountId, home: false }))], source, warnings };
}

/** Every ACTIVE account of the organization (suspended, closing and closed ones are skipped). */
export async function activeOrganizationAccounts(client: OrganizationsClient): Promise<string[]> {
  const ids: string[] = [];
  const { paginateListAccounts } = await import('@aws-sdk/client-organizations');
  for await (const page of paginateListAccounts({ client }, {})) {
    for (const account of page.Accounts ?? []) if (account.Id && isActive(account)) ids.push(account.Id);
  }
  return ids;
}

/** `State` replaces the deprecated `Status`; either says ACTIVE for an account in use. */
function isActive(account: Account): boolean {
  return (account.State ?? account.Status) === 'ACTIVE';
}
