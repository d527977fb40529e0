/**
 * CloudTrail `userIdentity` → Actor.
 *
 * The actor keeps what trust decisions need (type, ARN, the issuing role of a session,
 * the service that acted for the caller) and a short name for humans. It never keeps
 * the access key id: the audit trail names who acted, not their credentials.
 */
import type { Actor, ActorType } from '../model';
import { isRecord, rec, str } from './guards';

const ACTOR_TYPES: ReadonlySet<ActorType> = new Set<ActorType>([
  'IAMUser',
  'AssumedRole',
  'Root',
  'FederatedUser',
  'IdentityCenterUser',
  'SAMLUser',
  'WebIdentityUser',
  'AWSService',
  'AWSAccount',
]);

export function actorType(value: unknown): ActorType {
  return typeof value === 'string' && ACTOR_TYPES.has(value as ActorType) ? (value as ActorType) : 'Unknown';
}

/** The resource part of an ARN (everything after the fifth colon): `user/ops/alice`, `assumed-role/Role/session`. */
function arnResource(arn: string | undefined): string | undefined {
  if (arn === undefined || !arn.startsWith('arn:')) return undefined;
  // The fifth colon, found without splitting the ARN (a replay reads a million of them).
  let colon = 3;
  for (let n = 1; n < 5; n += 1) {
    colon = arn.indexOf(':', colon + 1);
    if (colon === -1) return undefined;
  }
  return arn.slice(colon + 1);
}

/** `assumed-role/Role/session` → `Role/session`; `user/path/alice` → `alice`; `federated-user/bob` → `bob`. */
function nameFromArn(arn: string | undefined): string | undefined {
  const resource = arnResource(arn);
  if (resource === undefined) return undefined;
  if (resource.startsWith('assumed-role/')) return resource.slice('assumed-role/'.length) || undefined;
  const last = resource.slice(resource.lastIndexOf('/') + 1);
  return last.length > 0 ? last : undefined;
}

/**
 * Reads the actor of a CloudTrail record. `record` is the whole record (for sourceIPAddress
 * and userAgent); a missing or malformed userIdentity gives an `Unknown` actor.
 */
export function actorFrom(record: unknown): Actor {
  const identity = rec(record, 'userIdentity') ?? {};
  const type = actorType(identity['type']);
  const arn = str(identity, 'arn');
  const accountId = str(identity, 'accountId');
  const principalId = str(identity, 'principalId');
  const invokedBy = str(identity, 'invokedBy');
  const sessionContext = rec(identity, 'sessionContext');
  const issuer = rec(sessionContext, 'sessionIssuer');
  const issuerArn = str(issuer, 'arn');
  // userName is read only by the types named by it: an absent field costs a pass over every key.
  const userName = (): string | undefined => str(identity, 'userName');

  let name: string | undefined;
  switch (type) {
    case 'Root':
      name = 'root';
      break;
    case 'IAMUser':
      name = userName() ?? nameFromArn(arn);
      break;
    case 'AssumedRole':
      name = nameFromArn(arn) ?? str(issuer, 'userName');
      break;
    case 'FederatedUser':
      name = nameFromArn(arn) ?? userName();
      break;
    case 'IdentityCenterUser': {
      // Identity Center records the user in onBehalfOf.userId, with no ARN.
      const onBehalfOf = rec(identity, 'onBehalfOf');
      const userId = str(onBehalfOf, 'userId') ?? userName();
      name = userId !== undefined ? `identity-center/${userId}` : undefined;
      break;
    }
    case 'SAMLUser':
    case 'WebIdentityUser':
      name = userName() ?? principalId;
      break;
    case 'AWSService':
      name = invokedBy ?? 'aws-service';
      break;
    case 'AWSAccount':
      name = accountId !== undefined ? `account ${accountId}` : principalId;
      break;
    case 'Unknown':
      name = nameFromArn(arn) ?? userName() ?? principalId;
      break;
  }

  const actor: Actor = { type, name: name ?? principalId ?? 'unknown' };
  if (arn !== undefined) actor.arn = arn;
  if (issuerArn !== undefined) actor.issuerArn = issuerArn;
  if (accountId !== undefined) actor.accountId = accountId;
  if (principalId !== undefined) actor.principalId = principalId;
  if (invokedBy !== undefined) actor.invokedBy = invokedBy;
  const sourceIp = isRecord(record) ? str(record, 'sourceIPAddress') : undefined;
  if (sourceIp !== undefined) actor.sourceIp = sourceIp;
  const userAgent = isRecord(record) ? str(record, 'userAgent') : undefined;
  if (userAgent !== undefined) actor.userAgent = userAgent;
  return actor;
}

/** The actor of a Config item: Config does not say who made the change. */
export const CONFIG_ACTOR: Readonly<Actor> = Object.freeze({ type: 'Unknown', name: 'unknown (AWS Config)' });
