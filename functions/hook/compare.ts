/**
 * The pre-traffic gate's judgement (pure): every sample's decision from the new version against
 * the expected one in events/expected.json. Any difference, a missing sample, or an extra one
 * fails the deployment.
 */
import type { SelfTestResult } from '../responder/self-test';

export interface ExpectedSample {
  rules: string[];
  rejected: boolean;
  code?: string;
  decision?: string;
}

export function compareSelfTest(results: SelfTestResult[], expected: Record<string, ExpectedSample>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const result of results) {
    const name = result.sample.split('#')[0]!;
    seen.add(name);
    const want = expected[name];
    if (!want) {
      problems.push(`${result.sample}: not in expected.json`);
      continue;
    }
    if (want.rejected) {
      if (!result.rejected) problems.push(`${result.sample}: expected a rejection (${want.code ?? 'any'}), got decision ${result.decision ?? '-'}`);
      else if (want.code && result.rejected !== want.code) problems.push(`${result.sample}: expected rejection ${want.code}, got ${result.rejected}`);
      continue;
    }
    if (result.rejected) {
      problems.push(`${result.sample}: rejected (${result.rejected}), expected decision ${want.decision ?? '-'}`);
      continue;
    }
    if (want.decision !== undefined && result.decision !== want.decision) problems.push(`${result.sample}: decision ${result.decision ?? '-'}, expected ${want.decision}`);
  }
  for (const name of Object.keys(expected)) if (!seen.has(name)) problems.push(`${name}: expected but not replayed`);
  return problems;
}
