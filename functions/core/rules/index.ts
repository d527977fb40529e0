/**
 * The detection rules, in the order they are evaluated and listed. One file per rule;
 * this index is the only list of them.
 */
import type { RuleId } from '../model';
import { adminPortOpenToWorld } from './admin-port-open-to-world';
import { driftwardenTamper } from './driftwarden-tamper';
import { instanceManualChange } from './instance-manual-change';
import { securityGroupManualChange } from './security-group-manual-change';
import { shellAccess } from './shell-access';
import { sshKeyMaterial } from './ssh-key-material';
import type { Rule } from './types';
import { unapprovedAmi } from './unapproved-ami';

export const RULES: readonly Rule[] = Object.freeze([
  adminPortOpenToWorld,
  securityGroupManualChange,
  instanceManualChange,
  shellAccess,
  unapprovedAmi,
  sshKeyMaterial,
  driftwardenTamper,
]);

const BY_ID = new Map<RuleId, Rule>(RULES.map((r) => [r.id, r]));

/** The rule with this id, or undefined for an id that names no rule. */
export function ruleById(id: string): Rule | undefined {
  return BY_ID.get(id as RuleId);
}

export { adminPortOpenToWorld, driftwardenTamper, instanceManualChange, securityGroupManualChange, shellAccess, sshKeyMaterial, unapprovedAmi };
export type { Rule, RuleInput, RuleResult } from './types';
