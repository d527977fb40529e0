/**
 * The AWS side of the CLI (`replay --execute`, `release`): clients for the account and region
 * the environment names (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL … are read by the SDK
 * itself), the live context reader, the executor and release. Loaded only by those commands.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientsFor } from '../aws/clients';
import { AwsContextReader } from '../aws/context-reader';
import { executePlan } from '../aws/executor';
import { releaseInstance } from '../aws/steps/release';
import { AuditTrail } from '../aws/state/audit';
import { InputError } from '../core/errors';
import type { AwsRuntime } from './deps';

/** Read by the CLI itself: the caller's identity, to name the account in the confirmation. */
export const IAM_ACTIONS = ['sts:GetCallerIdentity'] as const;

export async function awsRuntime(options: { region?: string }): Promise<AwsRuntime> {
  const sts = new STSClient(options.region ? { region: options.region } : {});
  let account: string;
  let callerArn: string | undefined;
  let region: string;
  try {
    region = await sts.config.region();
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    account = identity.Account ?? 'unknown';
    callerArn = identity.Arn;
  } catch (cause) {
    // Fail closed: without credentials and a region we cannot say which account we would change.
    throw new InputError(`cannot identify the AWS account to act on (credentials or region missing?): ${(cause as Error).message}`, {}, { cause });
  } finally {
    sts.destroy();
  }
  const clients = clientsFor({ region });
  return {
    target: { account, region, callerArn },
    reader: new AwsContextReader(clients),
    execute: async (plan, event, policy) => {
      const result = await executePlan(plan, { clients: clientsFor({ accountId: event.accountId, region: event.region }), event, policy, mutate: true });
      return result.outcomes;
    },
    release: (instanceId) => releaseInstance(instanceId, clients),
    ...(process.env.DRIFTWARDEN_STATE_TABLE
      ? {
          recordRelease: async ({ instanceId, time, outcomes, released, actor }) => {
            const audit = new AuditTrail();
            await audit.recordFollowUp({
              followUpOf: `release:${instanceId}`,
              status: released ? 'released' : 'release-failed',
              detail: `${released ? 'released' : 'release attempted'} by ${actor ?? 'an unknown caller'} with driftwarden release`,
              resources: [instanceId],
              accountId: account,
              region,
              decidedAt: time,
              outcomes,
            });
            return `audit trail ${audit.tableName}`;
          },
        }
      : {}),
  };
}
