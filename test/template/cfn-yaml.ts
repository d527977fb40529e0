/**
 * Reads CloudFormation/SAM YAML into plain JSON-shaped data, with the short-form intrinsic
 * tags turned into their long forms (`!Ref X` → `{ Ref: 'X' }`, `!GetAtt A.B` →
 * `{ 'Fn::GetAtt': ['A', 'B'] }`), so tests can walk a template as CloudFormation sees it.
 */
import { readFileSync } from 'node:fs';
import { parse, type ScalarTag, type CollectionTag, YAMLMap, YAMLSeq } from 'yaml';

type AnyTag = ScalarTag | CollectionTag;

const FN_TAGS = ['Sub', 'If', 'Equals', 'Not', 'And', 'Or', 'Join', 'Select', 'Split', 'FindInMap', 'ImportValue', 'Base64', 'Cidr', 'GetAZs'];

const toJs = (node: unknown): unknown => (node instanceof YAMLMap || node instanceof YAMLSeq ? node.toJSON() : node);

function splitGetAtt(value: string): [string, string] {
  const dot = value.indexOf('.');
  if (dot <= 0) throw new Error(`!GetAtt ${value}: expected LogicalId.Attribute`);
  return [value.slice(0, dot), value.slice(dot + 1)];
}

export const CFN_TAGS: AnyTag[] = [
  { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) },
  { tag: '!Condition', resolve: (value: string) => ({ Condition: value }) },
  { tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': splitGetAtt(value) }) },
  { tag: '!GetAtt', collection: 'seq', resolve: (seq: unknown) => ({ 'Fn::GetAtt': toJs(seq) }) } as CollectionTag,
  ...FN_TAGS.flatMap((name): AnyTag[] => [
    { tag: `!${name}`, resolve: (value: string) => ({ [`Fn::${name}`]: value }) },
    { tag: `!${name}`, collection: 'seq', resolve: (seq: unknown) => ({ [`Fn::${name}`]: toJs(seq) }) } as CollectionTag,
    { tag: `!${name}`, collection: 'map', resolve: (map: unknown) => ({ [`Fn::${name}`]: toJs(map) }) } as CollectionTag,
  ]),
];

export type CfnTemplate = {
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, any>; Condition?: string; [k: string]: unknown }>;
  Outputs?: Record<string, unknown>;
  Globals?: Record<string, any>;
  Mappings?: Record<string, unknown>;
  [k: string]: unknown;
};

export function parseCfnYaml(text: string): CfnTemplate {
  return parse(text, { customTags: CFN_TAGS, maxAliasCount: -1 }) as CfnTemplate;
}

export function loadCfnTemplate(path: string): CfnTemplate {
  return parseCfnYaml(readFileSync(path, 'utf8'));
}
