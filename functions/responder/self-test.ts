/**
 * The responder's self-test: replay the bundled sample events in dry-run against the bundled
 * sample account snapshot and policy, and report each decision. The pre-traffic hook invokes a
 * NEW version with `{ "driftwarden": "self-test" }` and fails the deployment if any decision
 * differs from the expected one, so a broken rule never takes traffic.
 *
 * It sends no AWS call: the context comes from the snapshot, and nothing is executed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { normalizeText } from '../core/normalize';
import { evaluateNormalized, isRejected } from '../core/pipeline';
import { loadPolicyFile } from '../core/policy/load';
import { SnapshotContextReader } from '../core/snapshot';

export const SELF_TEST_REQUEST = 'self-test';

export interface SelfTestResult {
  sample: string;
  decision?: string;
  rules: string[];
  rejected?: string;
}

export const isSelfTestRequest = (input: unknown): boolean =>
  typeof input === 'object' && input !== null && (input as Record<string, unknown>).driftwarden === SELF_TEST_REQUEST;

/** Samples live beside the bundle (copied by scripts/build.mjs) or, from source, in events/. */
export function selfTestRoot(bundleDir: string): string {
  const beside = join(bundleDir, 'self-test');
  return existsSync(beside) ? beside : join(bundleDir, '..', '..', 'events');
}

const listJson = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .flatMap((d) => (d.isDirectory() ? listJson(join(dir, d.name)) : d.name.endsWith('.json') ? [join(dir, d.name)] : []))
        .sort()
    : [];

/** Decided as of the snapshot's `capturedAt`, so the expected decisions never drift with the clock. */
export async function runSelfTest(root: string): Promise<SelfTestResult[]> {
  const policy = loadPolicyFile(join(root, 'policy.yaml'));
  const reader = SnapshotContextReader.fromFile(join(root, 'account-snapshot.json'));
  const now = new Date(reader.snapshot.capturedAt ?? '2026-01-01T00:00:00Z').toISOString();
  const samples = ['positive', 'negative', 'invalid'].flatMap((folder) => listJson(join(root, folder)));
  const results: SelfTestResult[] = [];
  for (const file of samples) {
    const evaluation = await evaluateNormalized(normalizeText(readFileSync(file, 'utf8')), { policy, reader, now, dryRun: true });
    const sample = relative(root, file).split('\\').join('/');
    if (isRejected(evaluation)) results.push({ sample, rules: [], rejected: evaluation.rejection.code });
    else results.push({ sample, decision: evaluation.plan.decision, rules: [...new Set(evaluation.plan.findings.map((f) => f.rule))].sort() });
  }
  return results;
}
