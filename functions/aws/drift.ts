/**
 * Drift confirmation: ask CloudFormation whether one instance of a stack still matches its
 * template. The responder calls it before replacing an instance for instance-manual-change
 * (the differences go into the alert), and the sweeper calls it for every stack instance it
 * passes, to find the manual changes whose CloudTrail events were missed.
 *
 * DetectStackResourceDrift checks ONE resource and answers synchronously, so there is no
 * detection id to poll within the time budget (DetectStackDrift + polling
 * DescribeStackDriftDetectionStatus checks every resource of the stack and may outlast a
 * sweep). Never throws: an error is the status `UNKNOWN` with the reason.
 */
import { DetectStackResourceDriftCommand } from '@aws-sdk/client-cloudformation';
import { describeAwsError } from './aws-errors';
import type { AwsClients } from './clients';

export const IAM_ACTIONS = ['cloudformation:DetectStackResourceDrift'] as const;

export type DriftStatus = 'MODIFIED' | 'IN_SYNC' | 'DELETED' | 'NOT_CHECKED' | 'UNKNOWN';

export interface PropertyDifference {
  /** e.g. `/InstanceType`, `/SecurityGroupIds/0`. */
  path: string;
  expected: string;
  actual: string;
  /** ADD | REMOVE | NOT_EQUAL */
  type: string;
}

export interface DriftConfirmation {
  status: DriftStatus;
  differences: PropertyDifference[];
  /** Why the status is UNKNOWN (the AWS error), or CloudFormation's own answer was incomplete. */
  reason?: string;
}

const KNOWN: ReadonlySet<string> = new Set(['MODIFIED', 'IN_SYNC', 'DELETED', 'NOT_CHECKED']);

/** Detects the drift of one resource (the instance `logicalId` of `stackName`). Never throws. */
export async function confirmInstanceDrift(clients: Pick<AwsClients, 'cloudFormation'>, stackName: string, logicalId: string): Promise<DriftConfirmation> {
  if (!stackName || !logicalId) return { status: 'UNKNOWN', differences: [], reason: 'no stack name or logical id to check' };
  try {
    const res = await clients.cloudFormation.send(new DetectStackResourceDriftCommand({ StackName: stackName, LogicalResourceId: logicalId }));
    const drift = res.StackResourceDrift;
    const status = drift?.StackResourceDriftStatus ?? '';
    if (!KNOWN.has(status)) {
      return { status: 'UNKNOWN', differences: [], reason: `CloudFormation answered no known drift status for ${logicalId} of ${stackName} (${status || 'none'})` };
    }
    const differences = (drift?.PropertyDifferences ?? []).map((d) => ({
      path: d.PropertyPath ?? '',
      expected: d.ExpectedValue ?? '',
      actual: d.ActualValue ?? '',
      type: d.DifferenceType ?? '',
    }));
    return { status: status as DriftStatus, differences };
  } catch (err) {
    return { status: 'UNKNOWN', differences: [], reason: `could not detect the drift of ${logicalId} in ${stackName}: ${describeAwsError(err)}` };
  }
}

/** "/InstanceType: expected t3.micro, actual t3.large (NOT_EQUAL)", one line per difference, for alerts. */
export function describeDifferences(differences: readonly PropertyDifference[]): string[] {
  return differences.map((d) => `${d.path || '(property)'}: expected ${d.expected || '(none)'}, actual ${d.actual || '(none)'} (${d.type || 'changed'})`);
}
