/** Shared access to the deployable templates for the tests in test/template. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCfnTemplate, type CfnTemplate } from './cfn-yaml';

export const ROOT = resolve(__dirname, '../..');
export const MAIN_TEMPLATE = join(ROOT, 'template.yaml');
export const INFRA_DIR = join(ROOT, 'infra');

/** template.yaml and every infra/*.yaml, as paths relative to the repository root. */
export function templatePaths(): string[] {
  const infra = existsSync(INFRA_DIR)
    ? readdirSync(INFRA_DIR)
        .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
        .sort()
        .map((f) => `infra/${f}`)
    : [];
  return ['template.yaml', ...infra];
}

const cache = new Map<string, CfnTemplate>();
export function template(relativePath: string): CfnTemplate {
  let t = cache.get(relativePath);
  if (!t) {
    t = loadCfnTemplate(join(ROOT, relativePath));
    cache.set(relativePath, t);
  }
  return t;
}

export type Resource = CfnTemplate['Resources'][string];

export function resourcesOfType(t: CfnTemplate, type: string): [string, Resource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

/** Every EventBridge rule that has an event pattern, by logical id. */
export function eventPatterns(t: CfnTemplate): Record<string, unknown> {
  return Object.fromEntries(
    resourcesOfType(t, 'AWS::Events::Rule')
      .filter(([, r]) => r.Properties?.EventPattern !== undefined)
      .map(([id, r]) => [id, r.Properties!.EventPattern]),
  );
}

/** The logical id a `Role: !GetAtt X.Arn` points at. */
export function roleLogicalId(fn: Resource): string | undefined {
  const role = fn.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  return role?.['Fn::GetAtt']?.[0];
}

/** Actions of one statement, as a list. */
export function statementActions(statement: { Action?: string | string[] }): string[] {
  if (statement.Action === undefined) return [];
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The actions of the inline policy `policyName` of a role. */
export function inlinePolicyActions(role: Resource, policyName: string): string[] | undefined {
  const policies = (role.Properties?.Policies ?? []) as { PolicyName: string; PolicyDocument: { Statement: { Action?: string | string[] }[] } }[];
  const policy = policies.find((p) => p.PolicyName === policyName);
  return policy ? policy.PolicyDocument.Statement.flatMap(statementActions) : undefined;
}

/**
 * The folder a function's artifact comes from. With `Metadata: BuildMethod: makefile`, `sam
 * build` runs the Makefile's `build-<LogicalId>` target, which copies one folder into
 * $(ARTIFACTS_DIR): that folder. Otherwise the CodeUri itself.
 */
export function artifactFolder(logicalId: string, fn: Resource): string {
  const metadata = (fn as { Metadata?: { BuildMethod?: string } }).Metadata;
  if (metadata?.BuildMethod !== 'makefile') return String(fn.Properties?.CodeUri ?? '');
  const makefile = readFileSync(join(ROOT, String(fn.Properties?.CodeUri ?? '.'), 'Makefile'), 'utf8');
  const target = new RegExp(`^build-${logicalId}:[^\\n]*\\n((?:\\t[^\\n]*\\n?)*)`, 'm').exec(makefile);
  if (!target) throw new Error(`Makefile has no build-${logicalId} target`);
  const copy = /cp -R (\S+?)\/?\.? "?\$\(ARTIFACTS_DIR\)"?/.exec(target[1]!);
  if (!copy) throw new Error(`build-${logicalId} copies no folder into $(ARTIFACTS_DIR)`);
  return `${copy[1]!.replace(/\/\.$/, '').replace(/\/$/, '')}/`;
}
