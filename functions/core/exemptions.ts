/**
 * Break-glass exemptions. Pure: the resource's tags, who wrote the exemption tag, the policy
 * and the time in; a verdict out.
 *
 * How an exemption works:
 * - A resource is exempt while it carries the tag `exemptions.tag` (default
 *   `driftwarden:exempt-until`) whose value is an ISO-8601 time (`2026-06-01T18:00:00Z`,
 *   `2026-06-01T18:00`, `2026-06-01`). A time with no zone is UTC. The reason is read from
 *   `exemptions.reasonTag` (default `driftwarden:exempt-reason`).
 * - The exemption holds strictly before that time: at `until` itself it has expired.
 * - It counts only when the tag was last written by an allowed setter: a principal matching
 *   `exemptions.setters` or `trust.pipelinePrincipals` (ARN patterns). The writer is read
 *   from CloudTrail (who last called CreateTags with that key).
 * - It lasts at most `exemptions.maxDurationDays` from when it was set (or, when the time it
 *   was set is not known, from now): a longer one is capped, with a warning.
 * - A malformed, expired, or unauthorized exemption (set by anyone else, or with no record
 *   of who set it) is ignored, with a warning: driftwarden enforces as if it were absent.
 * - When who set it cannot be read (CloudTrail unreadable), the exemption is
 *   `unverifiable`: driftwarden fails closed. It does not act destructively on the
 *   resource, and it says so (the plan's decision is `held`).
 * - Exemptions affect what driftwarden does, never whether it reports: an exempt change is
 *   still alerted.
 */
import type { Lookup, TagWriter } from './context';
import type { Policy } from './policy/schema';
import { matchesAny } from './trust';

export type ExemptionVerdict =
  | { status: 'none' }
  | { status: 'valid'; until: string; reason: string; setBy: string; warning?: string }
  | { status: 'expired' | 'malformed' | 'unauthorized-setter' | 'unverifiable'; warning: string };

export interface ExemptionInput {
  resourceId: string;
  tags: Record<string, string>;
  /** Who last wrote the exemption tag; absent when it was not looked up. */
  writer?: Lookup<TagWriter>;
  policy: Policy;
  /** ISO-8601. */
  now: string;
}

const DAY_MS = 86_400_000;

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses an ISO-8601 date or date-time into epoch milliseconds; a value with no zone is UTC.
 * Returns undefined for anything that is not a real calendar time (`2026-02-30` included).
 */
export function parseIsoTime(value: string): number | undefined {
  const m = ISO_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  const ms = Number(`0.${frac}`) * 1000;
  let epoch = Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(ms);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMinutes = Number(digits.slice(2, 4));
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    epoch -= sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  return epoch;
}

export function evaluateExemption(input: ExemptionInput): ExemptionVerdict {
  const { resourceId, tags, writer, policy } = input;
  const settings = policy.exemptions;
  const value = tags[settings.tag];
  if (value === undefined) return { status: 'none' };

  const now = parseIsoTime(input.now);
  if (now === undefined) {
    // The shell supplies `now`; if it is unusable nothing can be judged, so do not trust the exemption.
    return { status: 'unverifiable', warning: `Exemption on ${resourceId} cannot be judged: the decision time "${input.now}" is not an ISO-8601 time.` };
  }
  const requested = parseIsoTime(value);
  if (requested === undefined) {
    return {
      status: 'malformed',
      warning: `Ignored exemption on ${resourceId}: ${settings.tag}="${value}" is not an ISO-8601 time (e.g. 2026-06-01T18:00:00Z).`,
    };
  }
  if (now >= requested) {
    return {
      status: 'expired',
      warning: `Ignored exemption on ${resourceId}: it expired at ${new Date(requested).toISOString()}.`,
    };
  }

  if (writer === undefined || writer.status === 'unknown') {
    const why = writer === undefined ? 'it was not looked up' : writer.reason;
    return {
      status: 'unverifiable',
      warning: `Exemption on ${resourceId} cannot be verified: who set ${settings.tag} could not be read (${why}). driftwarden does not act destructively on it until it can tell.`,
    };
  }
  if (writer.status === 'not-found') {
    return {
      status: 'unauthorized-setter',
      warning: `Ignored exemption on ${resourceId}: there is no record of who set ${settings.tag}, so it cannot be shown to come from an allowed setter.`,
    };
  }

  const setBy = writer.value.arn;
  const allowed = [...settings.setters, ...policy.trust.pipelinePrincipals];
  if (!matchesAny([setBy], allowed)) {
    return {
      status: 'unauthorized-setter',
      warning: `Ignored exemption on ${resourceId}: ${settings.tag} was set by ${setBy}, who is not an allowed setter (exemptions.setters or trust.pipelinePrincipals).`,
    };
  }

  // Cap from when it was set, so that an old tag cannot stay valid forever; from now when unknown.
  const setAt = parseIsoTime(writer.value.time);
  const cap = (setAt !== undefined && setAt <= now ? setAt : now) + settings.maxDurationDays * DAY_MS;
  const reason = tags[settings.reasonTag]?.trim() || '(no reason given)';
  if (requested > cap) {
    const capped = new Date(cap).toISOString();
    if (now >= cap) {
      return {
        status: 'expired',
        warning: `Ignored exemption on ${resourceId}: it asked for ${value} but exemptions last at most ${settings.maxDurationDays} day(s) from when they are set, so it ended at ${capped}.`,
      };
    }
    return {
      status: 'valid',
      until: capped,
      reason,
      setBy,
      warning: `Exemption on ${resourceId} asked for ${value}; capped to ${capped} (exemptions.maxDurationDays is ${settings.maxDurationDays}).`,
    };
  }
  return { status: 'valid', until: new Date(requested).toISOString(), reason, setBy };
}
