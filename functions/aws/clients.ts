/**
 * AWS SDK clients, one set per account and region, created once per container and reused.
 *
 * - Region: the event's region when given, else the SDK default (AWS_REGION).
 * - Endpoint: never set here. The SDK itself honours AWS_ENDPOINT_URL (and the
 *   per-service AWS_ENDPOINT_URL_<SERVICE>), which is how local emulators are reached.
 * - Retries: the SDK's own retry strategy (standard or adaptive), which retries
 *   throttling and 5xx responses with exponential backoff and jitter. `maxAttempts`
 *   defaults to 5 (env DRIFTWARDEN_MAX_ATTEMPTS).
 * - Organization mode: when DRIFTWARDEN_MEMBER_ROLE_NAME is set and the target account is
 *   not the home account (DRIFTWARDEN_HOME_ACCOUNT_ID), the clients assume
 *   `arn:aws:iam::<account>:role/<name>` in that account (with DRIFTWARDEN_EXTERNAL_ID as
 *   the external id when set). An unknown home account counts as "same account": we never
 *   guess a role into an account we cannot name.
 * - Every client is constructed on first use: containment does not pay for the ones only
 *   replacement needs (CloudFormation, Auto Scaling, ELBv2), nor for AWS Config, which only
 *   restarting a stopped recorder needs.
 * - The code of the Auto Scaling, ELBv2, CloudTrail and AWS Config clients is not even loaded
 *   until first needed (functions/aws/later-clients.ts): whoever uses one of them first awaits
 *   `loadLaterClients()`. Touching one before that is a `ClientCodeNotLoadedError`, a bug
 *   that the tests of every such caller would show, never a silent fallback.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { DriftwardenError } from '../core/errors';

type LaterClients = typeof import('./later-clients');
let laterClients: LaterClients | undefined;
let loadingLaterClients: Promise<LaterClients> | undefined;

/** Loads the code of the clients needed only after containment or on rare paths (once per container). */
export async function loadLaterClients(): Promise<LaterClients> {
  if (laterClients) return laterClients;
  loadingLaterClients ??= import('./later-clients').then((loaded) => (laterClients = loaded));
  return loadingLaterClients;
}

/** A client whose code is loaded on first use was touched before `loadLaterClients()` finished. */
export class ClientCodeNotLoadedError extends DriftwardenError {
  constructor(client: string) {
    super(`the ${client} client's code is loaded on first use: await loadLaterClients() before using it`, { resource: client });
  }
}

function later(client: string): LaterClients {
  if (!laterClients) throw new ClientCodeNotLoadedError(client);
  return laterClients;
}

type CredentialProvider = ReturnType<typeof fromTemporaryCredentials>;

export interface AwsClients {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudFormation: CloudFormationClient;
  readonly sns: SNSClient;
  readonly ssm: SSMClient;
  readonly cloudTrail: CloudTrailClient;
  /**
   * AWS Config, for restarting a recorder an untrusted actor stopped (restore-logging).
   * Optional so that client sets built by hand before it existed still type-check; a set
   * without it makes that step fail with a clear outcome, never act elsewhere.
   */
  readonly configService?: ConfigServiceClient;
}

/** Where the clients act. Both optional: absent means "the SDK default / the home account". */
export interface ClientTarget {
  accountId?: string;
  region?: string;
}

/** Settings read from the environment; every field documented with its default. */
export interface ClientSettings {
  /** Total attempts per call, first included. Default 5 (DRIFTWARDEN_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** SDK retry mode. Default 'adaptive' (DRIFTWARDEN_RETRY_MODE = standard | adaptive). */
  retryMode: 'standard' | 'adaptive';
  /** Role name to assume in member accounts. Default: none (single-account mode). */
  memberRoleName?: string;
  /** The account driftwarden runs in. Default: unknown (then no role is ever assumed). */
  homeAccountId?: string;
  /** External id for the member role. Default: none. */
  externalId?: string;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

export function clientSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientSettings {
  const parsed = Number.parseInt(env.DRIFTWARDEN_MAX_ATTEMPTS ?? '', 10);
  const retryMode = env.DRIFTWARDEN_RETRY_MODE === 'standard' ? 'standard' : 'adaptive';
  return {
    maxAttempts: Number.isInteger(parsed) && parsed >= 1 ? parsed : DEFAULT_MAX_ATTEMPTS,
    retryMode,
    memberRoleName: nonEmpty(env.DRIFTWARDEN_MEMBER_ROLE_NAME),
    homeAccountId: nonEmpty(env.DRIFTWARDEN_HOME_ACCOUNT_ID),
    externalId: nonEmpty(env.DRIFTWARDEN_EXTERNAL_ID),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

/** The role ARN to assume for `accountId`, or undefined when the home account's own credentials apply. */
export function memberRoleArn(accountId: string | undefined, settings: ClientSettings): string | undefined {
  if (!settings.memberRoleName || !accountId || !settings.homeAccountId) return undefined;
  if (accountId === settings.homeAccountId) return undefined;
  return `arn:aws:iam::${accountId}:role/${settings.memberRoleName}`;
}

/** The configuration shared by every client of one account+region. Exported for tests. */
export interface SharedClientConfig {
  region?: string;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  credentials?: CredentialProvider;
}

export function sharedClientConfig(target: ClientTarget, settings: ClientSettings): SharedClientConfig {
  const config: SharedClientConfig = { maxAttempts: settings.maxAttempts, retryMode: settings.retryMode };
  // Leaving region undefined lets the SDK resolve it from AWS_REGION / the profile.
  if (target.region) config.region = target.region;
  const roleArn = memberRoleArn(target.accountId, settings);
  if (roleArn) {
    config.credentials = fromTemporaryCredentials({
      params: {
        RoleArn: roleArn,
        RoleSessionName: 'driftwarden',
        ...(settings.externalId ? { ExternalId: settings.externalId } : {}),
      },
      clientConfig: target.region ? { region: target.region } : {},
    });
  }
  return config;
}

/**
 * A set of clients that constructs each client on first use. Every client of the set
 * shares one configuration (region, retries, credentials).
 */
export class LazyAwsClients implements AwsClients {
  private readonly made = new Map<string, unknown>();
  constructor(readonly config: SharedClientConfig) {}

  private once<T>(name: string, make: () => T): T {
    let client = this.made.get(name) as T | undefined;
    if (client === undefined) {
      client = make();
      this.made.set(name, client);
    }
    return client;
  }

  /** Names of the clients constructed so far (to show that replacement clients are lazy). */
  constructedClients(): string[] {
    return [...this.made.keys()];
  }

  get ec2(): EC2Client {
    return this.once('ec2', () => new EC2Client(this.config));
  }
  get sns(): SNSClient {
    return this.once('sns', () => new SNSClient(this.config));
  }
  get ssm(): SSMClient {
    return this.once('ssm', () => new SSMClient(this.config));
  }
  get cloudTrail(): CloudTrailClient {
    return this.once('cloudTrail', () => new (later('cloudTrail').CloudTrailClient)(this.config));
  }
  get autoScaling(): AutoScalingClient {
    return this.once('autoScaling', () => new (later('autoScaling').AutoScalingClient)(this.config));
  }
  get elbv2(): ElasticLoadBalancingV2Client {
    return this.once('elbv2', () => new (later('elbv2').ElasticLoadBalancingV2Client)(this.config));
  }
  get cloudFormation(): CloudFormationClient {
    return this.once('cloudFormation', () => new CloudFormationClient(this.config));
  }
  get configService(): ConfigServiceClient {
    return this.once('configService', () => new (later('configService').ConfigServiceClient)(this.config));
  }
}

const cache = new Map<string, LazyAwsClients>();

/**
 * The clients for an account and region, created once per container. The cache key
 * includes the settings that shape the clients, so a changed environment (tests) never
 * gets stale clients.
 */
export function clientsFor(target: ClientTarget = {}, env: NodeJS.ProcessEnv = process.env): AwsClients {
  const settings = clientSettingsFromEnv(env);
  const key = JSON.stringify([
    target.accountId ?? '',
    target.region ?? '',
    settings.maxAttempts,
    settings.retryMode,
    memberRoleArn(target.accountId, settings) ?? '',
    settings.externalId ?? '',
  ]);
  let clients = cache.get(key);
  if (!clients) {
    clients = new LazyAwsClients(sharedClientConfig(target, settings));
    cache.set(key, clients);
  }
  return clients;
}

/** Forget every cached client (tests; a long-lived CLI that changes credentials). */
export function clearClientCache(): void {
  cache.clear();
}
