/**
 * driftwarden's state in DynamoDB (and the kill switch in SSM), for the handlers to wire up:
 * effectively-once processing and violation claims, the blast-radius limit, the alert-storm
 * limiter, the kill switch and the audit trail. Each module declares the IAM actions it needs
 * beside its code; `STATE_IAM_ACTIONS` lists them per table/service for the template.
 */
import { IAM_ACTIONS as ALERT_LIMITER_IAM_ACTIONS } from './alert-limiter';
import { IAM_ACTIONS as AUDIT_IAM_ACTIONS } from './audit';
import { IAM_ACTIONS as BLAST_RADIUS_IAM_ACTIONS } from './blast-radius';
import { CLAIMS_IAM_ACTIONS, IDEMPOTENCY_IAM_ACTIONS } from './idempotency';
import { IAM_ACTIONS as KILL_SWITCH_IAM_ACTIONS } from './kill-switch';

export * from './shared';
export {
  EffectivelyOnce,
  ViolationClaims,
  claimViolations,
  idempotencyKeyFor,
  runOnce,
  sweepIdempotencyKey,
  DEFAULT_EXPIRES_AFTER_SECONDS,
  DEFAULT_IN_PROGRESS_TIMEOUT_SECONDS,
  IDEMPOTENCY_IAM_ACTIONS,
  CLAIMS_IAM_ACTIONS,
  type EffectivelyOnceOptions,
  type OnceOutcome,
  type RemainingTime,
  type ViolationClaimsOptions,
  type ClaimResult,
} from './idempotency';
export { BlastRadiusLimiter, type BlastRadiusLimiterOptions, type BlastRadiusDecision } from './blast-radius';
export { AlertLimiter, PENDING_SUMMARY_PARTITION, type AlertLimiterOptions, type AdmitDecision, type PendingSummary } from './alert-limiter';
export { readKillSwitch, ENGAGED_VALUES, type KillSwitchState } from './kill-switch';
export { AuditTrail, redactSecrets, REDACTED, type AuditTrailOptions, type AuditEntryInput, type AuditRecord } from './audit';
export { ALERT_LIMITER_IAM_ACTIONS, AUDIT_IAM_ACTIONS, BLAST_RADIUS_IAM_ACTIONS, KILL_SWITCH_IAM_ACTIONS };

/** Every action the state modules need, by the resource the template grants it on. */
export const STATE_IAM_ACTIONS = {
  /** On the idempotency table (env DRIFTWARDEN_TABLE). */
  idempotencyTable: [...IDEMPOTENCY_IAM_ACTIONS],
  /** On the state table (env DRIFTWARDEN_STATE_TABLE) and its `byTime` index (Query). */
  stateTable: [...new Set([...CLAIMS_IAM_ACTIONS, ...BLAST_RADIUS_IAM_ACTIONS, ...ALERT_LIMITER_IAM_ACTIONS, ...AUDIT_IAM_ACTIONS])].sort(),
  /** On the kill-switch parameter. */
  killSwitchParameter: [...KILL_SWITCH_IAM_ACTIONS],
};
