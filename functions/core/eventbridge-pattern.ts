/**
 * A pure EventBridge event-pattern matcher.
 *
 * Why it exists: the rules in template.yaml are the first filter every event passes, and a
 * pattern that silently misses an event is a detection gap nobody sees. The template tests run
 * every sample event through every pattern with this matcher, and the CLI replay can use it to
 * tell which rule would have delivered a recorded event.
 *
 * Semantics follow EventBridge (and its open-source engine, aws/event-ruler):
 * - Every field the pattern names must be present in the event, with the same nesting;
 *   the only way to match an absent field is `{"exists": false}`. In particular
 *   `anything-but` does NOT match a missing field.
 * - A pattern leaf is an array of alternatives; the field matches when any alternative does.
 * - When the event holds an array, the field matches when any element does (for objects:
 *   when any one element matches the whole sub-pattern).
 * - Keys of one object are ANDed; `$or` takes a list of sub-patterns of which one must match.
 * - Values compare by JSON type: the string "5" is not the number 5; `true` is not "true".
 *
 * Operators: exact values (string, number, boolean, null), prefix, suffix (both also with
 * equals-ignore-case), equals-ignore-case, wildcard, anything-but (value, list, prefix, suffix,
 * equals-ignore-case, wildcard), exists, numeric, cidr (IPv4 and IPv6).
 *
 * An operator it does not know, or a malformed one, is an `EventPatternError`: a pattern that
 * cannot be read must never be treated as "matches nothing" or "matches everything".
 */
import { DriftwardenError } from './errors';

/** The pattern is not one EventBridge would accept (unknown operator, wrong operand type). */
export class EventPatternError extends DriftwardenError {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `event` matches `pattern` under EventBridge's rules. Throws EventPatternError for an unreadable pattern. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new EventPatternError('An event pattern must be a JSON object.', { pattern });
  if (!isObject(event)) return false;
  return matchObject(pattern, event, '');
}

function matchObject(pattern: Record<string, unknown>, event: Record<string, unknown>, path: string): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isObject)) {
        throw new EventPatternError(`"$or" at ${path || 'the top level'} must be an array of at least two objects.`, { path: here });
      }
      if (!sub.some((alt) => matchObject(alt, event, path))) return false;
      continue;
    }
    const present = Object.prototype.hasOwnProperty.call(event, key);
    const value = present ? (event[key] as Json) : undefined;
    if (isObject(sub)) {
      if (!present) return false;
      if (!matchNested(sub, value as Json, here)) return false;
    } else if (Array.isArray(sub)) {
      if (!matchLeaf(sub, present, value as Json, here)) return false;
    } else {
      throw new EventPatternError(`The pattern value at ${here} must be an array or an object.`, { path: here });
    }
  }
  return true;
}

/** An object sub-pattern against an event value: an object, or an array of which any object element matches. */
function matchNested(pattern: Record<string, unknown>, value: Json, path: string): boolean {
  if (isObject(value)) return matchObject(pattern, value, path);
  if (Array.isArray(value)) return value.some((element) => matchNested(pattern, element, path));
  // A leaf where the pattern expects structure: only `exists: false` leaves could match, and
  // EventBridge treats the nested fields as absent.
  return matchObject(pattern, {}, path);
}

/** The leaf values an event field holds: itself, or the leaf elements of its array (nested arrays flattened). */
function leafValues(value: Json): Json[] {
  if (Array.isArray(value)) return value.flatMap(leafValues);
  if (isObject(value)) return [];
  return [value];
}

function matchLeaf(alternatives: unknown[], present: boolean, value: Json | undefined, path: string): boolean {
  const leaves = present ? leafValues(value as Json) : [];
  return alternatives.some((alt) => {
    if (isObject(alt) && 'exists' in alt) {
      if (Object.keys(alt).length !== 1 || typeof alt.exists !== 'boolean') {
        throw new EventPatternError(`"exists" at ${path} takes true or false and nothing else.`, { path });
      }
      // exists matches leaves only: a field that holds an object (or an empty array) does not "exist" as a value.
      return alt.exists === leaves.length > 0;
    }
    return leaves.some((leaf) => matchAlternative(alt, leaf, path));
  });
}

function matchAlternative(alt: unknown, leaf: Json, path: string): boolean {
  if (alt === null || typeof alt === 'string' || typeof alt === 'number' || typeof alt === 'boolean') {
    return sameValue(alt, leaf);
  }
  if (!isObject(alt)) throw new EventPatternError(`Unsupported pattern value at ${path}.`, { path });
  const keys = Object.keys(alt);
  if (keys.length !== 1) throw new EventPatternError(`A matcher at ${path} must have exactly one operator; found ${keys.join(', ') || 'none'}.`, { path });
  const op = keys[0];
  const operand = alt[op];
  switch (op) {
    case 'prefix':
      return stringTest(operand, leaf, path, op, (v, s) => v.startsWith(s), (v, s) => v.toLowerCase().startsWith(s.toLowerCase()));
    case 'suffix':
      return stringTest(operand, leaf, path, op, (v, s) => v.endsWith(s), (v, s) => v.toLowerCase().endsWith(s.toLowerCase()));
    case 'equals-ignore-case':
      return requireString(operand, path, op) && typeof leaf === 'string' && leaf.toLowerCase() === (operand as string).toLowerCase();
    case 'wildcard':
      return requireString(operand, path, op) && typeof leaf === 'string' && wildcardToRegExp(operand as string).test(leaf);
    case 'anything-but':
      return anythingBut(operand, leaf, path);
    case 'numeric':
      return numeric(operand, leaf, path);
    case 'cidr':
      return requireString(operand, path, op) && typeof leaf === 'string' && inCidr(leaf, operand as string, path);
    default:
      throw new EventPatternError(`Unknown pattern operator "${op}" at ${path}.`, { path, operator: op });
  }
}

/** Strict JSON equality of scalars: no coercion between strings, numbers and booleans. */
function sameValue(a: unknown, b: Json): boolean {
  return a === b;
}

function requireString(operand: unknown, path: string, op: string): boolean {
  if (typeof operand !== 'string') throw new EventPatternError(`"${op}" at ${path} takes a string.`, { path, operator: op });
  return true;
}

/** prefix/suffix take a string, or `{ "equals-ignore-case": string }`. They match string values only. */
function stringTest(
  operand: unknown,
  leaf: Json,
  path: string,
  op: string,
  exact: (v: string, s: string) => boolean,
  ignoreCase: (v: string, s: string) => boolean,
): boolean {
  if (typeof operand === 'string') return typeof leaf === 'string' && exact(leaf, operand);
  if (isObject(operand) && Object.keys(operand).length === 1 && typeof operand['equals-ignore-case'] === 'string') {
    return typeof leaf === 'string' && ignoreCase(leaf, operand['equals-ignore-case']);
  }
  throw new EventPatternError(`"${op}" at ${path} takes a string or {"equals-ignore-case": string}.`, { path, operator: op });
}

/** `*` matches any run of characters (including none); `\*` is a literal star. */
function wildcardToRegExp(pattern: string): RegExp {
  let body = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      body += `\\${pattern[i + 1]}`;
      i++;
    } else if (c === '*') {
      body += '.*';
    } else {
      body += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${body}$`, 's');
}

/**
 * anything-but: a value, a list of values (strings only or numbers only), or one of prefix,
 * suffix, equals-ignore-case (string or list), wildcard (string or list). It matches a present
 * value that is not excluded; strings and numbers only, as in EventBridge.
 */
function anythingBut(operand: unknown, leaf: Json, path: string): boolean {
  if (typeof operand === 'string' || typeof operand === 'number') {
    return (typeof leaf === 'string' || typeof leaf === 'number') && !sameValue(operand, leaf);
  }
  if (Array.isArray(operand)) {
    const allStrings = operand.every((v) => typeof v === 'string');
    const allNumbers = operand.every((v) => typeof v === 'number');
    if (operand.length === 0 || (!allStrings && !allNumbers)) {
      throw new EventPatternError(`"anything-but" at ${path} takes a non-empty list of only strings or only numbers.`, { path });
    }
    return (typeof leaf === 'string' || typeof leaf === 'number') && !operand.some((v) => sameValue(v, leaf));
  }
  if (isObject(operand) && Object.keys(operand).length === 1) {
    const [op] = Object.keys(operand);
    const inner = operand[op];
    if (typeof leaf !== 'string') return false;
    const list = (v: unknown): string[] => {
      const items = Array.isArray(v) ? v : [v];
      if (items.length === 0 || !items.every((s) => typeof s === 'string')) {
        throw new EventPatternError(`"anything-but"/"${op}" at ${path} takes a string or a list of strings.`, { path, operator: op });
      }
      return items as string[];
    };
    switch (op) {
      case 'prefix':
        return !list(inner).some((s) => leaf.startsWith(s));
      case 'suffix':
        return !list(inner).some((s) => leaf.endsWith(s));
      case 'equals-ignore-case':
        return !list(inner).some((s) => s.toLowerCase() === leaf.toLowerCase());
      case 'wildcard':
        return !list(inner).some((s) => wildcardToRegExp(s).test(leaf));
      default:
        break;
    }
  }
  throw new EventPatternError(`Unsupported "anything-but" operand at ${path}.`, { path });
}

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/** numeric: `["<", 10]`, `[">", 0, "<=", 5]`, `["=", 3]`. Matches number values only. */
function numeric(operand: unknown, leaf: Json, path: string): boolean {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    throw new EventPatternError(`"numeric" at ${path} takes one or two [operator, number] pairs.`, { path });
  }
  const tests: ((v: number) => boolean)[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    const compare = typeof op === 'string' ? NUMERIC_OPS[op] : undefined;
    if (!compare || typeof bound !== 'number') {
      throw new EventPatternError(`"numeric" at ${path}: ${JSON.stringify(op)} ${JSON.stringify(bound)} is not an operator and a number.`, { path });
    }
    tests.push((v) => compare(v, bound));
  }
  return typeof leaf === 'number' && tests.every((t) => t(leaf));
}

function ipv4ToBigInt(ip: string): bigint | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) + BigInt(Number(p)), 0n);
}

function ipv6ToBigInt(ip: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(ip) || ip.split('::').length > 2) return undefined;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  if ((tail === undefined && missing !== 0) || missing < 0) return undefined;
  const groups = [...h, ...Array(tail === undefined ? 0 : missing).fill('0'), ...t];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

function inCidr(ip: string, cidr: string, path: string): boolean {
  const [base, lengthText] = cidr.split('/');
  const v6 = base.includes(':');
  const bits = v6 ? 128 : 32;
  const parse = v6 ? ipv6ToBigInt : ipv4ToBigInt;
  const network = parse(base);
  const length = Number(lengthText);
  if (network === undefined || !/^\d+$/.test(lengthText ?? '') || length > bits) {
    throw new EventPatternError(`"cidr" at ${path}: ${cidr} is not a CIDR block.`, { path });
  }
  const address = parse(ip);
  if (address === undefined) return false;
  const shift = BigInt(bits - length);
  return address >> shift === network >> shift;
}
