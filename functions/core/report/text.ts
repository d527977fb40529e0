/**
 * Small text helpers shared by the alert and the replay table: redaction of secret-looking
 * strings, control-character stripping, and truncation that never splits a character.
 */

/**
 * AWS access key ids (long-term AKIA…, temporary ASIA…). They end up in CloudTrail fields
 * (`accessKeyId`, error messages) and must never be forwarded to e-mail, SMS or chat.
 */
const ACCESS_KEY_ID = /(?:AKIA|ASIA)[A-Z0-9]{16}/g;
export const REDACTED_ACCESS_KEY = '[redacted access key]';

export function redactSecrets(text: string): string {
  return text.replace(ACCESS_KEY_ID, REDACTED_ACCESS_KEY);
}

/** C0/C1 controls and the Unicode line/paragraph separators: anything that could break a line. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line: control characters become a space, runs of spaces collapse, secrets are redacted. */
export function oneLine(text: string): string {
  return redactSecrets(text.replace(CONTROL_CHARS, ' ').replace(/\s+/g, ' ').trim());
}

/**
 * At most `max` UTF-16 code units, ending with `…` when cut. Cuts between code points, so a
 * surrogate pair is never split.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max === 1) return '…';
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}
