/**
 * Checked field access on untrusted input, and guarded JSON parsing.
 *
 * Nothing that arrives from EventBridge, a log file or a replay is trusted to have the
 * shape it claims: every read goes through these helpers, which answer `undefined`
 * instead of throwing when a field is missing or of the wrong type.
 */
import type { Rejection, RejectionCode } from '../model';

export type JsonRecord = Record<string, unknown>;

const ASCII = /^[\x00-\x7f]*$/;

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a field by name. With several names, the first present wins; the match is exact
 * first, then case-insensitive (CloudTrail spells the same field `groupId` in one API and
 * `GroupId` in another).
 */
export function field(value: unknown, ...names: string[]): unknown {
  if (!isRecord(value)) return undefined;
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(value, name)) return value[name];
  }
  // Case-insensitive pass. Absent optional fields (errorCode on most records) land here for
  // every record of a replay, so keys are compared by length before any is lower-cased, and
  // no array of keys is built.
  for (const name of names) {
    const lower = name.toLowerCase();
    // Lower-casing keeps the length of a key whose lower case is ASCII (only U+0130 grows, into non-ASCII).
    const sameLength = ASCII.test(lower);
    for (const key in value) {
      if ((!sameLength || key.length === lower.length) && Object.prototype.hasOwnProperty.call(value, key) && key.toLowerCase() === lower) return value[key];
    }
  }
  return undefined;
}

/** A non-empty string field, or undefined. */
export function str(value: unknown, ...names: string[]): string | undefined {
  const v = names.length ? field(value, ...names) : value;
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** A finite number field (numeric strings accepted, as CloudTrail sometimes records ports as text), or undefined. */
export function num(value: unknown, ...names: string[]): number | undefined {
  const v = names.length ? field(value, ...names) : value;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** A boolean field (`"true"`/`"false"` accepted), or undefined. */
export function bool(value: unknown, ...names: string[]): boolean | undefined {
  const v = names.length ? field(value, ...names) : value;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

/** A record field, or undefined. */
export function rec(value: unknown, ...names: string[]): JsonRecord | undefined {
  const v = field(value, ...names);
  return isRecord(v) ? v : undefined;
}

/**
 * The elements of a CloudTrail list, in any of the shapes CloudTrail writes one:
 * `{ items: [...] }`, a bare array, a single object (one element, as the EC2 query API
 * serialises a list of one), or `{}` / absent (no elements).
 */
export function items(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  if (isRecord(value)) {
    const inner = field(value, 'items', 'item');
    if (Array.isArray(inner)) return inner;
    if (isRecord(inner)) return [inner];
    if (Object.keys(value).length === 0) return [];
    return [value];
  }
  return [];
}

/** The string elements of a list (strings, or objects whose `key` field is a string). */
export function strings(value: unknown, key?: string): string[] {
  const out: string[] = [];
  for (const item of items(value)) {
    const s = key !== undefined && isRecord(item) ? str(item, key) : str(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/**
 * Every string value, under a key accepted by `keyMatches`, that `valueMatches`, found
 * anywhere in `value` down to `maxDepth` levels. Iterative (an explicit stack), so a deep
 * input cannot overflow the call stack; bounded, so a huge one cannot stall it.
 */
export function collectStrings(
  value: unknown,
  keyMatches: (key: string) => boolean,
  valueMatches: (v: string) => boolean,
  maxDepth = 8,
  maxNodes = 10_000,
): string[] {
  const out: string[] = [];
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  let visited = 0;
  while (stack.length > 0 && visited < maxNodes) {
    const { v, depth } = stack.pop()!;
    visited += 1;
    if (depth > maxDepth) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i -= 1) stack.push({ v: v[i], depth: depth + 1 });
    } else if (isRecord(v)) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i -= 1) {
        const k = keys[i]!;
        const child = v[k];
        if (typeof child === 'string') {
          if (keyMatches(k) && valueMatches(child)) out.push(child);
        } else if (Array.isArray(child) && keyMatches(k)) {
          // `instanceIds: ["i-…"]` (ssm SendCommand) lists values directly under the key.
          for (const c of child) if (typeof c === 'string' && valueMatches(c)) out.push(c);
          stack.push({ v: child, depth: depth + 1 });
        } else {
          stack.push({ v: child, depth: depth + 1 });
        }
      }
    }
  }
  return unique(out);
}

export const reject = (code: RejectionCode, reason: string, extra: { eventId?: string; eventName?: string } = {}): Rejection => ({
  rejected: true,
  code,
  reason,
  ...(extra.eventId !== undefined ? { eventId: extra.eventId } : {}),
  ...(extra.eventName !== undefined ? { eventName: extra.eventName } : {}),
});

/** Limits on text input. */
export interface TextLimits {
  /** Largest accepted payload, in UTF-8 bytes. Default 1 MiB (1,048,576). */
  maxBytes?: number;
  /** Deepest accepted nesting of objects and arrays. Default 64. */
  maxDepth?: number;
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;

/**
 * The index of the quote that closes the JSON string opened at `open`, or -1 when the text ends
 * first. Searched with `indexOf` (a native search): a quote closes the string when the run of
 * backslashes before it is even.
 */
function closingQuote(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end !== -1) {
    let backslashes = 0;
    for (let k = end - 1; k > open && text.charCodeAt(k) === 0x5c /* \ */; k -= 1) backslashes += 1;
    if ((backslashes & 1) === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}

/**
 * The nesting depth of a JSON text, counted by a single linear scan of its characters
 * (outside strings), so that a payload nested 10,000 levels deep is measured without
 * recursion and rejected before `JSON.parse` sees it. Stops counting as soon as `limit`
 * is passed.
 *
 * Strings are skipped with `indexOf` (a native search) rather than character by character:
 * most of a CloudTrail text is inside strings, so this is several times faster on a 1.4 MB
 * log file. A quote ends a string when the run of backslashes before it is even. An
 * unterminated string ends the scan (JSON.parse rejects such a text anyway).
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = closingQuote(text, i);
      if (end === -1) return false;
      i = end + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth -= 1;
    }
    i += 1;
  }
  return false;
}

/** JSON's whitespace (JSON.parse accepts no other between tokens). */
const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The start of a CloudTrail log file, up to its records: `{"Records":[`, with any JSON whitespace between tokens. */
const RECORDS_OPENING = /[ \t\n\r]*\{[ \t\n\r]*"Records"[ \t\n\r]*:[ \t\n\r]*\[/y;

/** How CloudTrail writes the boundary between two records of a log file: no space, and each record opens with its version. */
const NEXT_RECORD = '},{"eventVersion"';

/** True when `text` holds more than `limit` opening brackets between `start` and `end` (inside strings or not). */
function moreOpenersThan(text: string, start: number, end: number, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf('{', start); at !== -1 && at < end; at = text.indexOf('{', at + 1)) {
    if (++count > limit) return true;
  }
  for (let at = text.indexOf('[', start); at !== -1 && at < end; at = text.indexOf('[', at + 1)) {
    if (++count > limit) return true;
  }
  return false;
}

/**
 * The spans of the records of a log file as CloudTrail writes it (`{"Records":[{"eventVersion"…},{"eventVersion"…}]}`),
 * found without scanning every string: a record is taken to end where `},{"eventVersion"` next
 * appears, the last one before the closing `]}`. Undefined when the text is not of that form
 * (then the full scan decides). A guess that is wrong (the pattern inside a record) gives a
 * span that is not one JSON value, which the caller's parse of each span refuses, so that the
 * whole text is then read as before; spans that all parse are exactly the records, since a span
 * that starts with `{` and parses is one whole object. Nesting: a record holds no more levels
 * than it has opening brackets, so only a record with more than `maxRecordDepth` of them is
 * measured exactly (and then refused when too deep, for the full path to reject the file).
 */
function cloudTrailRecordSpans(text: string, start: number, maxRecordDepth: number): number[] | undefined {
  if (!text.startsWith('{"eventVersion"', start)) return undefined;
  // The end of the last record: the text ends with `}` `]` `}` and JSON whitespace.
  let end = text.length;
  const skipSpaceBack = () => {
    while (end > start && isJsonSpace(text.charCodeAt(end - 1))) end -= 1;
  };
  for (const closer of [0x7d /* } */, 0x5d /* ] */]) {
    skipSpaceBack();
    if (text.charCodeAt(end - 1) !== closer) return undefined;
    end -= 1;
  }
  skipSpaceBack();
  if (text.charCodeAt(end - 1) !== 0x7d /* } */) return undefined;
  const spans: number[] = [];
  let from = start;
  while (from < end) {
    const next = text.indexOf(NEXT_RECORD, from);
    const to = next === -1 || next >= end ? end : next + 1;
    if (moreOpenersThan(text, from, to, maxRecordDepth) && jsonDepthExceeds(text.slice(from, to), maxRecordDepth)) return undefined;
    spans.push(from, to);
    from = to + 1;
  }
  return spans;
}

/**
 * Where each element of a JSON array of inputs lies in `text`, found from the boundaries between
 * records for a log file as CloudTrail writes it (`cloudTrailRecordSpans`), else in one scan of
 * the text: for a CloudTrail log file (`{"Records":[…]}`, exactly that one key) or a bare array
 * (`[…]`), the start and end offsets of each element, flat (`[start0, end0, start1, …]`), so
 * that each element can be parsed and dropped on its own, while the next is still text.
 *
 * Undefined whenever the text is not plainly that shape: another key or an escape in the
 * envelope, anything after the closing bracket, a closing bracket at the wrong level, an
 * unterminated string, or nesting deeper than `maxDepth` anywhere in the text (counted as
 * `jsonDepthExceeds` counts it, envelope included). The caller then parses the whole text
 * with `parseJsonText`, which gives the exact rejection. When the offsets are returned, the
 * text is valid JSON if and only if every element parses on its own (the scan checked the
 * brackets, commas and envelope around them; JSON.parse checks each element whole), and
 * then each element parses to what the same element of `JSON.parse(text)` is.
 */
export function arrayElementSpans(text: string, maxDepth: number): number[] | undefined {
  const length = text.length;
  let i: number;
  let base: number;
  RECORDS_OPENING.lastIndex = 0;
  if (RECORDS_OPENING.test(text)) {
    i = RECORDS_OPENING.lastIndex;
    base = 2;
    if (base <= maxDepth) {
      const spans = cloudTrailRecordSpans(text, i, maxDepth - base);
      if (spans !== undefined) return spans;
    }
  } else {
    i = 0;
    while (i < length && isJsonSpace(text.charCodeAt(i))) i += 1;
    if (text.charCodeAt(i) !== 0x5b /* [ */) return undefined;
    i += 1;
    base = 1;
  }
  if (base > maxDepth) return undefined;
  const spans: number[] = [];
  let depth = base;
  let start = i;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = closingQuote(text, i);
      if (end === -1) return undefined;
      i = end + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth += 1;
      if (depth > maxDepth) return undefined;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === base) {
        // The end of the array: its last element, unless the array is empty (only whitespace).
        if (c !== 0x5d) return undefined;
        let blank = spans.length === 0;
        for (let k = start; blank && k < i; k += 1) blank = isJsonSpace(text.charCodeAt(k));
        if (!blank) spans.push(start, i);
        i += 1;
        while (i < length && isJsonSpace(text.charCodeAt(i))) i += 1;
        if (base === 2) {
          if (text.charCodeAt(i) !== 0x7d /* } */) return undefined;
          i += 1;
          while (i < length && isJsonSpace(text.charCodeAt(i))) i += 1;
        }
        return i === length ? spans : undefined;
      }
      depth -= 1;
    } else if (c === 0x2c /* , */ && depth === base) {
      spans.push(start, i);
      start = i + 1;
    }
    i += 1;
  }
  return undefined;
}

export type ParsedJson = { rejected: false; value: unknown } | Rejection;

/**
 * JSON.parse with guards: a payload over `maxBytes` is rejected `too-large`, one nested
 * deeper than `maxDepth` `too-deep`, one that is not JSON `not-json`. Never throws.
 */
export function parseJsonText(text: unknown, limits: TextLimits = {}): ParsedJson {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  try {
    if (typeof text !== 'string') return reject('not-json', `Expected JSON text, got ${text === null ? 'null' : typeof text}.`);
    // A UTF-8 character is at most 3 bytes per UTF-16 unit, so only measure when it could matter.
    if (text.length * 3 > maxBytes) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > maxBytes) return reject('too-large', `Payload is ${bytes} bytes; the limit is ${maxBytes}.`);
    }
    if (jsonDepthExceeds(text, maxDepth)) return reject('too-deep', `Payload nests objects or arrays deeper than ${maxDepth} levels.`);
    return { rejected: false, value: JSON.parse(text) as unknown };
  } catch (err) {
    return reject('not-json', `Payload is not valid JSON: ${err instanceof Error ? err.message : String(err)}.`);
  }
}

const CREDENTIAL_KEYS = new Set(['accesskeyid', 'secretaccesskey', 'sessiontoken']);
export const REDACTED = '[redacted by driftwarden]';

/** Only keys of these lengths can be credential keys: most keys are ruled out without lower-casing them. */
const mayBeCredentialKey = (key: string): boolean =>
  (key.length === 11 || key.length === 12 || key.length === 15) && CREDENTIAL_KEYS.has(key.toLowerCase());

/**
 * A copy of `value` in which every access key id, secret key and session token is
 * replaced by a marker: the audit trail keeps the record, not the credentials.
 * Untouched branches are shared, not copied. Branches deeper than `maxDepth` are kept
 * as they are (guarded input is never that deep).
 *
 * Called for every record of a replay, so it is written for speed: `for…in` with an own-key
 * check (no key array per object), primitives skipped without a call, and a key lower-cased
 * only when its length is that of a credential key.
 */
export function redactCredentials(value: unknown, maxDepth = 64): unknown {
  return typeof value === 'object' && value !== null ? redactBranch(value, 0, maxDepth) : value;
}

function redactBranch(value: object, depth: number, maxDepth: number): unknown {
  if (depth > maxDepth) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      if (typeof item !== 'object' || item === null) continue;
      const redacted = redactBranch(item, depth + 1, maxDepth);
      if (redacted !== item) {
        copy ??= value.slice();
        copy[i] = redacted;
      }
    }
    return copy ?? value;
  }
  const record = value as JsonRecord;
  let copy: JsonRecord | undefined;
  for (const key in record) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const child = record[key];
    let redacted: unknown;
    if (typeof child === 'string') {
      if (child === REDACTED || !mayBeCredentialKey(key)) continue;
      redacted = REDACTED;
    } else if (typeof child === 'object' && child !== null) {
      redacted = redactBranch(child, depth + 1, maxDepth);
    } else {
      continue;
    }
    if (redacted !== child) {
      copy ??= { ...record };
      copy[key] = redacted;
    }
  }
  return copy ?? value;
}
