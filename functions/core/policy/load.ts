/**
 * Reading the policy file: YAML in, a validated `Policy` out, or a `PolicyError` that names
 * every problem with its place in the file (`policy.yaml:7:11 rules.shell-access.mode: …`),
 * so that a typo is fixed in one pass rather than one error at a time.
 */
import { readFileSync } from 'node:fs';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { InputError, PolicyError } from '../errors';
import { policySchema, type Policy } from './schema';

/**
 * zod's English messages, for the issues whose text is zod's own (`invalid_union`, and
 * anything `describeIssue` passes through). `zod/mini` loads no locale by default, so its
 * messages would all read "Invalid input"; given per parse rather than through the global
 * `z.config`, so that loading this module changes nothing for other zod users.
 */
const englishMessages: z.core.$ZodErrorMap = en().localeError;

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

export interface PolicyProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** `rules.shell-access.mode`, `approvedAmis.ids[1]`; `(root)` for the document itself. */
export function dottedPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

const EXPECTED_TYPE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

/** Unwraps default/prefault/optional/nullable wrappers to reach the schema underneath. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (let i = 0; i < 10; i++) {
    const def = current._zod.def as { type: string; innerType?: z.core.$ZodType };
    if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable') && def.innerType) {
      current = def.innerType;
    } else break;
  }
  return current;
}

/** The keys the schema allows at `path`, to say what an unknown key could have been. */
function allowedKeys(path: readonly PathKey[]): string[] {
  let schema: z.core.$ZodType = policySchema;
  for (const key of path) {
    const def = unwrap(schema)._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    if (def.type === 'object' && def.shape && typeof key === 'string' && def.shape[key]) schema = def.shape[key];
    else if (def.type === 'array' && def.element) schema = def.element;
    else return [];
  }
  const def = unwrap(schema)._zod.def as { type: string; shape?: Record<string, z.core.$ZodType> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function bound(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean }, small: boolean): string {
  const limit = String(small ? issue.minimum : issue.maximum);
  if (small) return issue.inclusive === false ? `greater than ${limit}` : `at least ${limit}`;
  return issue.inclusive === false ? `less than ${limit}` : `at most ${limit}`;
}

/** One issue as one human sentence: what it must be, and what it was. */
export function describeIssue(issue: Issue): string {
  const got = 'input' in issue ? ` (got ${describeValue(issue.input)})` : '';
  switch (issue.code) {
    case 'invalid_value':
      if (issue.values.length === 1) return `must be ${JSON.stringify(issue.values[0])}${got}`;
      return `must be one of ${issue.values.map(String).join(', ')}${got}`;
    case 'invalid_type':
      if (issue.input === undefined) return `is required: must be ${EXPECTED_TYPE[issue.expected] ?? issue.expected}`;
      return `must be ${EXPECTED_TYPE[issue.expected] ?? issue.expected}${got}`;
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${String(issue.minimum)} item(s)${got}`;
      if (issue.origin === 'string') return `must be at least ${String(issue.minimum)} character(s) long${got}`;
      return `must be ${bound(issue, true)}${got}`;
    case 'too_big':
      if (issue.origin === 'array') return `must list at most ${String(issue.maximum)} item(s)${got}`;
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters long`;
      return `must be ${bound(issue, false)}${got}`;
    case 'invalid_format':
      return `${issue.message}${got}`;
    case 'invalid_union': {
      // Each branch failed; a branch that got past the type check explains the problem best.
      const specific = issue.errors.flat().find((inner) => inner.code !== 'invalid_type' && inner.path.length === 0);
      if (specific) return describeIssue({ ...specific, input: issue.input } as Issue);
      return `${issue.message}${got}`;
    }
    case 'unrecognized_keys':
      return 'unknown key';
    default:
      return `${issue.message}${got}`;
  }
}

function positionOf(doc: Document, lineCounter: LineCounter, path: readonly PathKey[], keyName?: string): { line: number; column: number } {
  // Walk down as far as the document goes: a missing key is reported where its parent is.
  let node: unknown = doc.contents;
  let located: unknown = doc.contents;
  for (const key of path) {
    if (!isNode(node)) break;
    const child = (node as { get?: (k: unknown, keepScalar: boolean) => unknown }).get?.(key, true);
    if (!isNode(child)) break;
    node = child;
    located = child;
  }
  if (keyName !== undefined && isMap(located)) {
    const pair = located.items.find((item) => isNode(item.key) && (item.key as { value?: unknown }).value === keyName);
    if (pair && isNode(pair.key) && pair.key.range) located = pair.key;
  }
  const offset = isNode(located) && located.range ? located.range[0] : 0;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function fail(source: string, problems: PolicyProblem[], cause?: unknown): never {
  const lines = problems.map((p) => `${source}:${p.line ?? 1}:${p.column ?? 1} ${p.path}: ${p.message}`);
  const noun = problems.length === 1 ? 'problem' : 'problems';
  throw new PolicyError(`${source} is not a valid driftwarden policy (${problems.length} ${noun}):\n${lines.map((l) => `  ${l}`).join('\n')}`, problems, { cause });
}

/**
 * Parses and validates a policy document. Every default is applied; an empty document is
 * the default policy. Throws `PolicyError` listing every problem as
 * `<source>:<line>:<col> <dotted.path>: <what>`.
 */
export function parsePolicy(text: string, source = 'policy'): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    fail(
      source,
      doc.errors.map((err) => {
        const where = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
        // prettyErrors appends a code excerpt after the first line; the first line is the message.
        const message = `YAML syntax error: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
        return { path: '(root)', message, line: where.line, column: where.col };
      }),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  const result = policySchema.safeParse(data, { reportInput: true, error: englishMessages });
  if (result.success) return result.data;

  const problems: PolicyProblem[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(issue.path);
      for (const key of issue.keys) {
        const where = positionOf(doc, lineCounter, issue.path, key);
        const hint = allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : '';
        problems.push({ path: dottedPath([...issue.path, key]), message: `unknown key${hint}`, ...where });
      }
      continue;
    }
    const where = positionOf(doc, lineCounter, issue.path);
    problems.push({ path: dottedPath(issue.path), message: describeIssue(issue), ...where });
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  fail(source, problems, result.error);
}

/** Reads and parses a policy file; `InputError` when it cannot be read, `PolicyError` when it is not valid. */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
    throw new InputError(`policy file ${path} ${why}`, { resource: path }, { cause: err });
  }
  return parsePolicy(text, path);
}

export const POLICY_SCHEMA_ID = 'urn:driftwarden:policy:v1';

/** The JSON Schema of the policy file as written (input: defaults optional), for editors and CI. */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, { io: 'input' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: POLICY_SCHEMA_ID,
    title: 'driftwarden policy',
    description: 'The driftwarden policy file: a mode per rule, who is trusted, golden images, exemptions, the forensic hold and limits. Every key is optional; defaults are stated in each description.',
  };
}

/** The exact text of policy/policy.schema.json. */
export function renderPolicyJsonSchema(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
