/**
 * Effectively-once processing: never act twice on one change.
 *
 * Two layers, because a change can arrive twice in two different ways:
 *
 * 1. The SAME delivery twice (EventBridge delivers at least once; Lambda retries async
 *    invocations). `EffectivelyOnce` runs the caller's function at most once per key with
 *    Powertools idempotency (DynamoDBPersistenceLayer on the idempotency table, partition key
 *    `id`, TTL attribute `expiration`). A concurrent duplicate is a NORMAL outcome, not an
 *    error: it returns `duplicate-in-progress`, so nothing lands in an on-failure destination.
 * 2. DIFFERENT deliveries of the same violation (CloudTrail and Config, live and sweep).
 *    `ViolationClaims` claims each violation key (functions/core/violation-keys.ts) with a
 *    conditional PutItem in the state table, so whichever arrives first acts and the others see
 *    who already did, even when they arrive in the same millisecond.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyItemNotFoundError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { ChangeEvent } from '../../core/model';
import {
  type Clock,
  ONE_DAY_SECONDS,
  StateConfigError,
  StateInputError,
  StateUnavailableError,
  describeError,
  documentClient,
  epochSeconds,
  idempotencyTableName,
  isConditionalCheckFailed,
  readItem,
  stateTableName,
  systemClock,
} from './shared';

/** What `EffectivelyOnce` needs from IAM (the idempotency table). */
export const IDEMPOTENCY_IAM_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;
/** What `ViolationClaims` needs from IAM (the state table). */
export const CLAIMS_IAM_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'] as const;
/** Everything this module needs. */
export const IAM_ACTIONS = [...new Set([...IDEMPOTENCY_IAM_ACTIONS, ...CLAIMS_IAM_ACTIONS])];

/** 48 hours: longer than EventBridge's 24-hour retry period, so a late redelivery still finds the record. */
export const DEFAULT_EXPIRES_AFTER_SECONDS = 2 * ONE_DAY_SECONDS;
/** 15 minutes, Lambda's longest run: the lock of a run that died without finishing. */
export const DEFAULT_IN_PROGRESS_TIMEOUT_SECONDS = 900;

/** The part of the Lambda context that idempotency reads. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

export interface EffectivelyOnceOptions {
  /** The idempotency table (partition key `id`, TTL `expiration`). Default: env DRIFTWARDEN_TABLE. */
  tableName?: string;
  /** The DynamoDB client. Default: a new client configured from AWS_REGION / AWS_ENDPOINT_URL. */
  client?: DynamoDBClient;
  /**
   * How long a completed record keeps duplicates away, in seconds; at least 24 h, the period over
   * which EventBridge retries a delivery. Default 172800 (48 h).
   */
  expiresAfterSeconds?: number;
  /**
   * Prefix of the stored record ids. Default `driftwarden`, the same for every entry point, so
   * that the responder and a `replay --execute` of the same event do not both act. (Powertools'
   * own default is the function name, which would separate them.)
   */
  keyPrefix?: string;
  /**
   * The Lambda context: an in-progress record then expires when the invocation's time runs out,
   * so a crashed run does not block its retry for longer. Default: none (see inProgressTimeoutSeconds).
   * It can also be set later with `registerLambdaContext`.
   */
  lambdaContext?: RemainingTime;
  /**
   * Without a Lambda context (CLI, tests): how long an in-progress record blocks duplicates if its
   * run dies without finishing, in seconds. Default 900.
   */
  inProgressTimeoutSeconds?: number;
}

/**
 * - `processed`: this call ran the function; `result` is its JSON form.
 * - `duplicate`: an earlier call completed; `result` is what that call stored.
 * - `duplicate-in-progress`: another call holds the key right now; this one did nothing.
 *
 * `warning` is set when the function ran but its completion could not be stored: a retry after
 * the in-progress lock expires may run it again (violation claims still stop a second action).
 */
export type OnceOutcome<T> =
  | { status: 'processed'; result: T; warning?: string }
  | { status: 'duplicate'; result: T }
  | { status: 'duplicate-in-progress' };

/** What the response hook hands back to Powertools (its own JSON type, not exported by the package). */
type JsonValue = Parameters<NonNullable<ConstructorParameters<typeof IdempotencyConfig>[0]['responseHook']>>[0];

/** Stored by the wrapped function; the response hook turns it into `duplicate` on replay. */
type StoredOutcome = { status: 'processed' | 'duplicate'; result: unknown };

/**
 * Thrown inside the wrapped function so that the caller's own errors pass through untouched
 * (an Error, because Powertools wraps anything else in IdempotencyUnknownError).
 */
class ProcessFailure extends Error {
  constructor(readonly failure: unknown) {
    super('the idempotent function failed');
  }
}

/** How often a duplicate that lost the race to a run that then failed (and deleted its lock) tries again. */
const RETRIES_AFTER_VANISHED_RECORD = 2;

/**
 * Runs a function at most once per key, across concurrent and repeated deliveries.
 *
 * ```ts
 * const once = new EffectivelyOnce({ lambdaContext: context });
 * const outcome = await once.run(idempotencyKeyFor(event), () => respond(event));
 * ```
 *
 * If the function throws, its error is rethrown and the key is released, so a retry runs it.
 * If the idempotency table cannot be used, `StateUnavailableError` is thrown BEFORE the function
 * runs: without the record driftwarden cannot promise it acts once, so it does not act.
 */
export class EffectivelyOnce {
  readonly tableName: string;
  readonly expiresAfterSeconds: number;
  readonly keyPrefix: string;
  private readonly config: IdempotencyConfig;
  private readonly persistence: DynamoDBPersistenceLayer;
  private readonly fallbackContext: RemainingTime | undefined;

  constructor(options: EffectivelyOnceOptions = {}) {
    this.tableName = idempotencyTableName(options.tableName, 'EffectivelyOnce');
    this.expiresAfterSeconds = options.expiresAfterSeconds ?? DEFAULT_EXPIRES_AFTER_SECONDS;
    if (!Number.isInteger(this.expiresAfterSeconds) || this.expiresAfterSeconds < ONE_DAY_SECONDS) {
      throw new StateConfigError(
        `EffectivelyOnce: expiresAfterSeconds must be at least ${ONE_DAY_SECONDS} (EventBridge retries for 24 h), got ${String(options.expiresAfterSeconds)}`,
        { option: 'expiresAfterSeconds' },
      );
    }
    this.keyPrefix = (options.keyPrefix ?? 'driftwarden').trim() || 'driftwarden';
    const timeoutSeconds = options.inProgressTimeoutSeconds ?? DEFAULT_IN_PROGRESS_TIMEOUT_SECONDS;
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
      throw new StateConfigError(`EffectivelyOnce: inProgressTimeoutSeconds must be positive, got ${String(timeoutSeconds)}`, {
        option: 'inProgressTimeoutSeconds',
      });
    }
    this.fallbackContext = { getRemainingTimeInMillis: () => timeoutSeconds * 1000 };
    this.persistence = new DynamoDBPersistenceLayer({
      tableName: this.tableName,
      ...(options.client ? { awsSdkV3Client: options.client } : {}),
    });
    this.config = new IdempotencyConfig({
      expiresAfterSeconds: this.expiresAfterSeconds,
      throwOnNoIdempotencyKey: true,
      // Only called when a COMPLETED record is returned instead of running the function.
      responseHook: (response) => {
        const stored = response as { result?: JsonValue } | null;
        return { status: 'duplicate', result: stored?.result ?? null };
      },
    });
    this.registerLambdaContext(options.lambdaContext ?? this.fallbackContext);
  }

  /** Use this invocation's remaining time as the in-progress lock's lifetime. */
  registerLambdaContext(context: RemainingTime): void {
    this.config.registerLambdaContext(context as Parameters<IdempotencyConfig['registerLambdaContext']>[0]);
  }

  /**
   * Run `fn` unless `key` already ran or is running. The result is stored as JSON (keep it small:
   * the record must fit DynamoDB's 400 KB) and returned in its JSON form, the same for the first
   * call and its duplicates.
   */
  async run<T>(key: string, fn: () => Promise<T> | T): Promise<OnceOutcome<T>> {
    const idempotencyKey = requireKey(key);
    let produced: { result: T } | undefined;
    const idempotent = makeIdempotent(
      async (_key: string): Promise<StoredOutcome> => {
        try {
          const result = jsonForm(await fn()) as T;
          produced = { result };
          return { status: 'processed', result };
        } catch (error) {
          throw new ProcessFailure(error);
        }
      },
      { persistenceStore: this.persistence, config: this.config, keyPrefix: this.keyPrefix },
    );

    for (let attempt = 0; ; attempt += 1) {
      try {
        const outcome = (await idempotent(idempotencyKey)) as StoredOutcome;
        return { status: outcome.status, result: outcome.result as T };
      } catch (error) {
        if (error instanceof ProcessFailure) throw error.failure;
        if (error instanceof IdempotencyAlreadyInProgressError) return { status: 'duplicate-in-progress' };
        if (produced !== undefined) {
          // The function ran (and acted); only storing its completion failed. Not acting again is
          // more important than the record: report the result and say what is at risk.
          return {
            status: 'processed',
            result: produced.result,
            warning: `idempotency record for ${idempotencyKey} not completed (${describeError(causeOf(error))}): a retry after the in-progress lock expires may run again`,
          };
        }
        if (error instanceof IdempotencyItemNotFoundError && attempt < RETRIES_AFTER_VANISHED_RECORD) continue;
        throw new StateUnavailableError(
          `idempotency table ${this.tableName} unusable for ${idempotencyKey}: ${describeError(causeOf(error))}; not acting`,
          { key: idempotencyKey, table: this.tableName },
          { cause: error },
        );
      }
    }
  }

  /** `run` keyed on the event: `idempotencyKeyFor(event)`, then `process(event)`. */
  runForEvent<T>(event: ChangeEvent, process: (event: ChangeEvent) => Promise<T> | T): Promise<OnceOutcome<T>> {
    return this.run(idempotencyKeyFor(event), () => process(event));
  }
}

/** One-shot form of `EffectivelyOnce.run`, for callers with a single key. */
export function runOnce<T>(key: string, fn: () => Promise<T> | T, options: EffectivelyOnceOptions = {}): Promise<OnceOutcome<T>> {
  return new EffectivelyOnce(options).run(key, fn);
}

/**
 * The idempotency key of a change event: its stable identity, the same on every delivery.
 * - CloudTrail: the eventID.
 * - Config: `config:<resourceId>:<configurationStateId>` (normalize already builds it; an id
 *   that lacks the prefix gets it here, so a Config key never collides with an eventID).
 * - Sweeps: the sweeper names its events `sweep:<violation key>` (see `sweepIdempotencyKey`).
 */
export function idempotencyKeyFor(event: ChangeEvent): string {
  const id = typeof event?.id === 'string' ? event.id.trim() : '';
  if (id === '') throw new StateInputError('change event has no id: cannot key idempotency on it', { eventName: event?.eventName });
  if (event.origin === 'config' && !id.startsWith('config:')) {
    const resourceId = event.change?.kind === 'config-item' ? event.change.resourceId : event.resources?.[0]?.id;
    return `config:${resourceId ?? 'unknown'}:${id}`;
  }
  return id;
}

/** The idempotency key of a sweep that found a violation: one sweep action per violation. */
export function sweepIdempotencyKey(violationKey: string): string {
  return `sweep:${requireKey(violationKey)}`;
}

function requireKey(key: string): string {
  const trimmed = typeof key === 'string' ? key.trim() : '';
  if (trimmed === '') throw new StateInputError('empty idempotency key', {});
  return trimmed;
}

/** The value as it comes back from storage (JSON), so that first runs and duplicates look alike. */
function jsonForm(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function causeOf(error: unknown): unknown {
  return error instanceof Error && error.cause !== undefined ? error.cause : error;
}

// ─── Violation claims ───────────────────────────────────────────────────────────────────────

export interface ViolationClaimsOptions {
  /** The state table (pk `pk`, sk `sk`, TTL `expiresAt`). Default: env DRIFTWARDEN_STATE_TABLE. */
  tableName?: string;
  /** The DynamoDB client. Default: a new client configured from AWS_REGION / AWS_ENDPOINT_URL. */
  client?: DynamoDBClient;
  /** The clock. Default: the system clock. */
  now?: Clock;
}

export interface ClaimResult {
  /** Keys this claimant now holds: act on these. */
  claimed: string[];
  /** Keys someone else holds: do not act on them; `by` says who (an event id or sweep key). */
  alreadyClaimed: { key: string; by: string }[];
}

/**
 * Claims on violations, one item per key: pk `violation#<key>`, sk `claim`.
 *
 * A claim is a conditional PutItem that succeeds only if nobody holds the key, the holder's
 * claim has expired (TTL deletion can lag by days, so expiry is checked here, not left to
 * DynamoDB), or the holder is the same claimant (a retry of the same event after a crash must
 * be able to finish what it started). DynamoDB serialises conditional writes on one item, so of
 * any number of concurrent claimants exactly one wins.
 */
export class ViolationClaims {
  readonly tableName: string;
  private readonly documents: DynamoDBDocumentClient;
  private readonly now: Clock;

  constructor(options: ViolationClaimsOptions = {}) {
    this.tableName = stateTableName(options.tableName, 'ViolationClaims');
    this.documents = documentClient(options.client);
    this.now = options.now ?? systemClock;
  }

  /**
   * Claim every key for `claimant` for `ttlSeconds`. Keys are claimed one by one (not as a
   * transaction): a CloudTrail call that opened two rules and a Config item that shows one of
   * them must split the work, not block each other. Throws `StateUnavailableError` when a claim
   * can be neither made nor refused (the table is unreachable): do not act then.
   */
  async claim(keys: string[], claimant: string, ttlSeconds: number, options: { observedAt?: string } = {}): Promise<ClaimResult> {
    const holder = typeof claimant === 'string' ? claimant.trim() : '';
    if (holder === '') throw new StateInputError('violation claim without a claimant', {});
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
      throw new StateInputError(`violation claim TTL must be a positive integer of seconds, got ${String(ttlSeconds)}`, { claimant: holder });
    }
    const unique = [...new Set(keys.map((key) => requireKey(key)))];
    const observed = options.observedAt !== undefined ? new Date(options.observedAt) : undefined;
    const observedAt = observed && !Number.isNaN(observed.getTime()) ? observed.toISOString() : undefined;
    const results = await Promise.all(unique.map((key) => this.claimOne(key, holder, ttlSeconds, observedAt)));
    return {
      claimed: results.filter((result) => result.by === holder).map((result) => result.key),
      alreadyClaimed: results.filter((result) => result.by !== holder),
    };
  }

  /**
   * Give up claims this claimant holds (its run failed before acting), so that the next
   * delivery or the sweeper can act. Claims held by others are left alone.
   */
  async release(keys: string[], claimant: string): Promise<void> {
    await Promise.all(
      [...new Set(keys)].map(async (key) => {
        try {
          await this.documents.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: claimKey(key),
              ConditionExpression: 'claimedBy = :claimant',
              ExpressionAttributeValues: { ':claimant': claimant },
            }),
          );
        } catch (error) {
          if (isConditionalCheckFailed(error)) return;
          throw new StateUnavailableError(`could not release claim on ${key}: ${describeError(error)}`, { key, claimant }, { cause: error });
        }
      }),
    );
  }

  /**
   * Mark claims as resolved: the violation was contained at `resolvedAt`. A later delivery
   * that saw the violation AFTER that time is not a duplicate but the same violation made again
   * (a rule re-opened, a shell re-opened), and `claim` with its `observedAt` takes the claim
   * over; deliveries of the original change (a late Config item, a sweep that read the state
   * before containment) saw it earlier and stay refused.
   */
  async resolve(keys: string[], claimant: string, resolvedAt: string): Promise<void> {
    const at = new Date(resolvedAt).toISOString();
    await Promise.all(
      [...new Set(keys)].map(async (key) => {
        try {
          await this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: claimKey(key),
              UpdateExpression: 'SET resolvedAt = :at',
              ConditionExpression: 'claimedBy = :claimant',
              ExpressionAttributeValues: { ':at': at, ':claimant': claimant },
            }),
          );
        } catch (error) {
          if (isConditionalCheckFailed(error)) return;
          throw new StateUnavailableError(`could not resolve claim on ${key}: ${describeError(error)}`, { key, claimant }, { cause: error });
        }
      }),
    );
  }

  private async claimOne(key: string, claimant: string, ttlSeconds: number, observedAt?: string): Promise<{ key: string; by: string }> {
    const now = this.now();
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...claimKey(key),
            violationKey: key,
            claimedBy: claimant,
            claimedAt: now.toISOString(),
            expiresAt: epochSeconds(now) + ttlSeconds,
          },
          // A claim resolved before this delivery observed the violation is a finished one: the
          // violation was made again since, and this delivery must act on it.
          ConditionExpression: `attribute_not_exists(pk) OR expiresAt < :now OR claimedBy = :claimant${observedAt ? ' OR resolvedAt < :observedAt' : ''}`,
          ExpressionAttributeValues: { ':now': epochSeconds(now), ':claimant': claimant, ...(observedAt ? { ':observedAt': observedAt } : {}) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { key, by: claimant };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) {
        throw new StateUnavailableError(`could not claim violation ${key}: ${describeError(error)}; not acting`, { key, claimant }, { cause: error });
      }
      const returned = (error as { Item?: Record<string, { S?: string }> }).Item?.claimedBy?.S;
      const holder = returned ?? (await this.currentHolder(key));
      return { key, by: holder ?? 'unknown' };
    }
  }

  private async currentHolder(key: string): Promise<string | undefined> {
    try {
      const item = await readItem(this.documents, this.tableName, claimKey(key).pk, 'claim');
      return typeof item?.claimedBy === 'string' ? item.claimedBy : undefined;
    } catch {
      // The claim was refused, which is all that matters for acting; the holder's name is for humans.
      return undefined;
    }
  }
}

/** One-shot form of `ViolationClaims.claim`. */
export function claimViolations(keys: string[], claimant: string, ttlSeconds: number, options: ViolationClaimsOptions = {}): Promise<ClaimResult> {
  return new ViolationClaims(options).claim(keys, claimant, ttlSeconds);
}

function claimKey(key: string): { pk: string; sk: string } {
  return { pk: `violation#${key}`, sk: 'claim' };
}
