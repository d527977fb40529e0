/**
 * normalize: any input → one ChangeEvent, or a typed Rejection that says why not.
 *
 * Accepted inputs:
 * - an EventBridge event of detail-type "AWS API Call via CloudTrail" (or "AWS Service
 *   Event via CloudTrail", which has the same detail), whose detail is a CloudTrail record;
 * - an EventBridge event of detail-type "Config Configuration Item Change", including the
 *   oversized form that carries only a summary;
 * - a bare CloudTrail record (as in a CloudTrail log file), or a bare Config notification.
 *
 * `normalize` never throws: input is never trusted, every field access is checked, and an
 * unexpected failure becomes a rejection. A rejected input causes no action.
 */
import type { NormalizeResult } from '../model';
import { looksLikeCloudTrailRecord, normalizeCloudTrailRecord } from './cloudtrail';
import { normalizeConfigDetail } from './config';
import { field, isRecord, parseJsonText, reject, str, type TextLimits } from './guards';

export { parseJsonText, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, type TextLimits, type ParsedJson } from './guards';
export { normalizeProtocol } from './permissions';
export { baseEventName } from './cloudtrail';

export const CLOUDTRAIL_DETAIL_TYPES: readonly string[] = ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'];
export const CONFIG_DETAIL_TYPE = 'Config Configuration Item Change';

function normalizeUnchecked(input: unknown): NormalizeResult {
  if (!isRecord(input)) {
    const what = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
    return reject('not-an-object', `Expected a JSON object (an EventBridge event or a CloudTrail record), got ${what}.`);
  }
  if ('detail-type' in input) {
    const detailType = input['detail-type'];
    if (typeof detailType !== 'string') return reject('invalid-field', 'The EventBridge event\'s "detail-type" is not a string.');
    const envelope = {
      ...(str(input, 'account') !== undefined ? { account: str(input, 'account') } : {}),
      ...(str(input, 'region') !== undefined ? { region: str(input, 'region') } : {}),
      ...(str(input, 'time') !== undefined ? { time: str(input, 'time') } : {}),
    };
    const isCloudTrail = CLOUDTRAIL_DETAIL_TYPES.includes(detailType);
    if (!isCloudTrail && detailType !== CONFIG_DETAIL_TYPE) {
      return reject('unsupported-detail-type', `driftwarden reads CloudTrail API calls and Config item changes; "${detailType.slice(0, 100)}" is neither.`);
    }
    const detail = field(input, 'detail');
    if (detail === undefined) return reject('missing-field', `The "${detailType}" event has no detail.`);
    if (!isRecord(detail)) return reject('invalid-field', `The "${detailType}" event's detail is not a JSON object.`);
    return isCloudTrail ? normalizeCloudTrailRecord(detail, envelope) : normalizeConfigDetail(detail, envelope);
  }
  if (looksLikeCloudTrailRecord(input)) return normalizeCloudTrailRecord(input);
  if (isRecord(input['configurationItem']) || isRecord(input['configurationItemSummary'])) return normalizeConfigDetail(input);
  if (Array.isArray(input['Records'])) {
    return reject('missing-field', 'This is a CloudTrail log file ({"Records": [...]}), not one event: unpack it with unpackRecords and normalize each record.');
  }
  return reject('missing-field', 'Neither an EventBridge event (no "detail-type") nor a CloudTrail record (no eventName, eventSource and userIdentity).');
}

/** One input → a ChangeEvent or a Rejection. Never throws. */
export function normalize(input: unknown): NormalizeResult {
  try {
    return normalizeUnchecked(input);
  } catch (err) {
    // Nothing above should throw; if it does, the input is refused, never acted on.
    return reject('invalid-field', `The input could not be read: ${err instanceof Error ? err.message : String(err)}.`);
  }
}

/**
 * JSON text → normalize, with guards: text over `limits.maxBytes` (default 1 MiB) is
 * rejected `too-large`, nesting deeper than `limits.maxDepth` (default 64) `too-deep`,
 * and text that is not JSON `not-json`. Never throws.
 */
export function normalizeText(text: string, limits: TextLimits = {}): NormalizeResult {
  const parsed = parseJsonText(text, limits);
  if (parsed.rejected) return parsed;
  return normalize(parsed.value);
}

/**
 * The records of a CloudTrail log file as delivered to S3 (`{"Records": [...]}`), for the
 * replay reader; undefined when the document is not one.
 */
export function unpackRecords(doc: unknown): unknown[] | undefined {
  if (!isRecord(doc)) return undefined;
  const records = doc['Records'];
  return Array.isArray(records) ? records : undefined;
}
