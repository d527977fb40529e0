/**
 * The kill switch: one SSM parameter that turns every mode to observe. An operator who sees
 * driftwarden misbehave must be able to stop it acting within one invocation, without a
 * deployment, so the parameter is read on EVERY invocation and never cached across them.
 *
 * Fail closed: if the parameter exists but cannot be read (AccessDenied, throttling, a network
 * error) driftwarden cannot know the operator did not pull the switch, so it treats the switch
 * as engaged and says why. Only a parameter that does not exist means "not engaged": that is
 * how driftwarden runs before anyone has created it.
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { describeError } from './shared';

/** What `readKillSwitch` needs from IAM. */
export const IAM_ACTIONS = ['ssm:GetParameter'] as const;

/** The values that engage the switch, compared case-insensitively after trimming. */
export const ENGAGED_VALUES: readonly string[] = ['on', 'true', 'observe', 'engaged'];

export interface KillSwitchState {
  /** True: every mode is observe for this invocation. */
  engaged: boolean;
  /** Why, for the log and the alert. */
  reason: string;
  /** True when the parameter could not be read and the switch is engaged because of that. */
  unreadable?: boolean;
}

/**
 * Read the kill switch. Never throws: every failure is an answer (engaged, unreadable).
 * `parameterName` is the policy's `killSwitchParameter` (default `/driftwarden/kill-switch`).
 */
export async function readKillSwitch(ssm: SSMClient, parameterName: string): Promise<KillSwitchState> {
  const name = typeof parameterName === 'string' ? parameterName.trim() : '';
  if (name === '') {
    return { engaged: true, unreadable: true, reason: 'kill switch unreadable: no parameter name configured' };
  }
  try {
    // WithDecryption so a SecureString parameter reads as its value, not its ciphertext.
    const response = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = (response.Parameter?.Value ?? '').trim();
    if (ENGAGED_VALUES.includes(value.toLowerCase())) {
      return { engaged: true, reason: `kill switch ${name} is "${value}"` };
    }
    return { engaged: false, reason: `kill switch ${name} is "${value}" (not engaged)` };
  } catch (error) {
    if (error instanceof Error && error.name === 'ParameterNotFound') {
      return { engaged: false, reason: `kill switch ${name} does not exist (not engaged)` };
    }
    return { engaged: true, unreadable: true, reason: `kill switch unreadable: ${describeError(error)} (${name}); observing` };
  }
}
