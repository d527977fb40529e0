/**
 * EventBridge events for the integration cases: the matching sample of events/positive, with
 * the sample's account, region and resource ids rewritten to moto's, a fresh event id (so that
 * no two tests share an idempotency key) and the current time.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MOTO_ACCOUNT_ID, MOTO_REGION } from './moto';
import { ROOT } from './responder';

const SAMPLE_ACCOUNT = '111122223333';
const SAMPLE_REGION = 'eu-west-1';

export interface EventBridgeEvent {
  id: string;
  time: string;
  account: string;
  region: string;
  detail: Record<string, unknown> & { eventID: string; eventTime: string };
  [key: string]: unknown;
}

/**
 * The sample `events/positive/<name>.json` rewritten for moto: every occurrence of each key of
 * `ids` replaced by its value, the account and region replaced by moto's.
 */
/** A positive sample rewritten to moto's ids, with fresh ids; `time` is when the call was made (default now). */
export function sampleForMoto(name: string, ids: Record<string, string>, options: { time?: Date } = {}): EventBridgeEvent {
  let text = readFileSync(join(ROOT, 'events', 'positive', `${name}.json`), 'utf8');
  const replacements: Record<string, string> = { ...ids, [SAMPLE_ACCOUNT]: MOTO_ACCOUNT_ID, [SAMPLE_REGION]: MOTO_REGION };
  for (const [from, to] of Object.entries(replacements)) {
    if (!text.includes(from)) throw new Error(`sample ${name} does not contain ${from}: the rewrite would not reach it`);
    text = text.split(from).join(to);
  }
  const event = JSON.parse(text) as EventBridgeEvent;
  const now = (options.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  event.id = randomUUID();
  event.time = now;
  event.detail.eventID = randomUUID();
  event.detail.eventTime = now;
  return event;
}

/** The pipeline role the test policy trusts (moto's account). */
export const PIPELINE_ROLE_ARN = `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/pipeline-deploy`;

/** What a test may change in the test policy (everything else as writeTestPolicy documents). */
export interface TestPolicyOptions {
  /** approvedAmis.ids; absent: no approved-image source, so unapproved-ami is not configured. */
  approvedAmiIds?: string[];
  /** forensicHold.duration in hours (0 terminates at once). Default 24. */
  forensicHoldHours?: number;
}

/**
 * A policy file in a temp directory: trusts the pipeline role, contains world-open admin
 * ports, replaces hand-edited instances, and keeps quarantined instances for the forensic hold
 * (24 hours unless `forensicHoldHours` says otherwise). With `approvedAmiIds`, an instance
 * launched from any other image is contained (unapproved-ami, mode contain by default).
 */
export function writeTestPolicy(options: TestPolicyOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'driftwarden-integration-'));
  const path = join(dir, 'policy.yaml');
  const hold = options.forensicHoldHours === undefined ? 'PT24H' : String(options.forensicHoldHours);
  writeFileSync(
    path,
    [
      'version: 1',
      'rules:',
      '  admin-port-open-to-world:',
      '    mode: contain',
      '  security-group-manual-change:',
      '    mode: observe',
      '  instance-manual-change:',
      '    mode: replace',
      'trust:',
      '  pipelinePrincipals:',
      `    - ${PIPELINE_ROLE_ARN}`,
      ...(options.approvedAmiIds ? ['approvedAmis:', '  ids:', ...options.approvedAmiIds.map((id) => `    - ${id}`)] : []),
      'forensicHold:',
      `  duration: ${hold}`,
      '',
    ].join('\n'),
  );
  return path;
}

/**
 * The EventBridge "CloudFormation Stack Status Change" event for a stack update driftwarden
 * started (or not), as the watcher's rule delivers it.
 */
export function stackStatusEvent(change: { stackId: string; status: string; reason?: string; clientRequestToken: string }): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'CloudFormation Stack Status Change',
    source: 'aws.cloudformation',
    account: MOTO_ACCOUNT_ID,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: MOTO_REGION,
    resources: [change.stackId],
    detail: {
      'stack-id': change.stackId,
      'status-details': { status: change.status, ...(change.reason ? { 'status-reason': change.reason } : {}) },
      'client-request-token': change.clientRequestToken,
    },
  };
}
