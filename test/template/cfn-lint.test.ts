/**
 * cfn-lint over template.yaml and every infra/*.yaml. cfn-lint's exit code is a bit mask:
 * 2 errors, 4 warnings, 8 informational (1 a crash). Errors fail the test; warnings are listed.
 * Without cfn-lint on the machine the suite is skipped with a visible notice, except in CI
 * (CI=true), where a missing linter is a failure.
 */
import { spawnSync } from 'node:child_process';
import { ROOT, templatePaths } from './templates';

const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const available = probe.status === 0;
const inCi = process.env.CI === 'true';

if (!available && !inCi) {
  console.warn('cfn-lint is not installed: the template lint tests are SKIPPED. Install it with `pip install cfn-lint`.');
}

interface LintMatch {
  Level: string;
  Message: string;
  Rule: { Id: string };
  Location: { Start: { LineNumber: number } };
}

function lint(path: string): { status: number | null; matches: LintMatch[]; raw: string } {
  const res = spawnSync('cfn-lint', ['--format', 'json', '--', path], { cwd: ROOT, encoding: 'utf8' });
  let matches: LintMatch[] = [];
  try {
    matches = JSON.parse(res.stdout || '[]') as LintMatch[];
  } catch {
    matches = [];
  }
  return { status: res.status, matches, raw: `${res.stdout}\n${res.stderr}` };
}

const describeLint = available || inCi ? describe : describe.skip;

describeLint('cfn-lint', () => {
  it('is installed (required in CI)', () => {
    expect(available).toBe(true);
  });

  it.each(templatePaths())('%s has no cfn-lint error', (path) => {
    const { status, matches, raw } = lint(path);
    const errors = matches.filter((m) => m.Level === 'Error').map((m) => `${path}:${m.Location.Start.LineNumber} ${m.Rule.Id} ${m.Message}`);
    const warnings = matches.filter((m) => m.Level === 'Warning').map((m) => `${path}:${m.Location.Start.LineNumber} ${m.Rule.Id} ${m.Message}`);
    if (warnings.length > 0) console.warn(`cfn-lint warnings:\n${warnings.join('\n')}`);
    expect(errors).toEqual([]);
    // 1 is a crash, bit 2 is "errors found": neither may be set even when the JSON was unreadable.
    expect({ path, crashed: status === 1, errorBit: ((status ?? 1) & 2) !== 0, output: status === 1 ? raw : '' }).toEqual({
      path,
      crashed: false,
      errorBit: false,
      output: '',
    });
  });
});
