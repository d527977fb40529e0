/** Builders for CloudTrail records and EventBridge envelopes, shaped as CloudTrail writes them. */
import type { ChangeEvent, NormalizeResult } from '../../../functions/core/model';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

export const alice = {
  type: 'IAMUser',
  principalId: 'AIDAEXAMPLEALICE00001',
  arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
  accountId: ACCOUNT,
  accessKeyId: 'AKIAEXAMPLEALICE0001',
  userName: 'alice',
};

let counter = 0;

/** A CloudTrail record; `fields` replace or add top-level fields. */
export function record(eventSource: string, eventName: string, requestParameters: unknown, fields: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    eventVersion: '1.10',
    userIdentity: alice,
    eventTime: '2026-11-20T09:00:00Z',
    eventSource,
    eventName,
    awsRegion: REGION,
    sourceIPAddress: '203.0.113.24',
    userAgent: 'aws-cli/2.22.4',
    requestParameters,
    responseElements: null,
    requestID: `req-${counter}`,
    eventID: `evt-${counter}`,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...fields,
  };
}

/** The record inside an EventBridge "AWS API Call via CloudTrail" envelope. */
export function viaEventBridge(detail: unknown, source = 'aws.ec2'): Record<string, unknown> {
  return {
    version: '0',
    id: 'e0000000-2b3c-4d5e-8f60-718293a4b5c6',
    'detail-type': 'AWS API Call via CloudTrail',
    source,
    account: ACCOUNT,
    time: '2026-11-20T09:00:00Z',
    region: REGION,
    resources: [],
    detail,
  };
}

/** The event of an accepted result; fails the test with the rejection reason otherwise. */
export function accepted(result: NormalizeResult): ChangeEvent {
  if (result.rejected) throw new Error(`expected a ChangeEvent, got rejection ${result.code}: ${result.reason}`);
  return result.event;
}
