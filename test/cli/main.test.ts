import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { found, notFound } from '../../functions/core/context';
import type { ContextReader } from '../../functions/core/context';
import type { Plan, StepOutcome } from '../../functions/core/decision';
import type { ChangeEvent } from '../../functions/core/model';
import { defaultDeps } from '../../functions/cli/deps';
import type { AwsRuntime, CliDeps } from '../../functions/cli/deps';
import { run } from '../../functions/cli/main';
import { archive, capture, sshOpenRecord } from './helpers';

/** Context in which the security group exists and nothing else does: plans can act. */
const liveReader: ContextReader = {
  instance: async () => notFound(),
  securityGroup: async (groupId) => found({ groupId, tags: {}, vpcId: 'vpc-1' }),
  image: async () => notFound(),
  approvedAmiIds: async () => found([]),
  tagWriter: async () => notFound(),
};

function fakeAws(target = { account: '111122223333', region: 'eu-west-1' }) {
  const executed: { plan: Plan; event: ChangeEvent }[] = [];
  const released: string[] = [];
  let releaseOutcomes: StepOutcome[] = [{ action: 'isolate-instance', resource: 'i-0123456789abcdef0', status: 'done', detail: 'restored sg-web on eni-1' }];
  const runtime: AwsRuntime = {
    target: { ...target, callerArn: 'arn:aws:iam::111122223333:user/oncall' },
    reader: liveReader,
    execute: async (plan, event) => {
      executed.push({ plan, event });
      return plan.steps.map((s) => ({ action: s.action, resource: s.resource, status: 'done' as const, detail: `did ${s.action}` }));
    },
    release: async (instanceId) => {
      released.push(instanceId);
      return releaseOutcomes;
    },
  };
  const aws = jest.fn(async () => runtime);
  return { aws, executed, released, setReleaseOutcomes: (o: StepOutcome[]) => (releaseOutcomes = o) };
}

function deps(overrides: Partial<CliDeps> = {}): CliDeps {
  return { ...defaultDeps(), snapshotReader: async () => liveReader, ...overrides };
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('driftwarden replay', () => {
  it('reads .json, .jsonl, .json.gz, log files and nested folders, one JSON line per input in input order', async () => {
    const { dir, expectedSources } = archive();
    const cli = capture();
    const code = await run(['replay', dir, '--json'], cli.io, deps());
    expect(code).toBe(0);
    const lines = jsonLines(cli.stdout());
    expect(lines.map((l) => l.source)).toEqual(expectedSources);
    expect(lines[0]).toMatchObject({
      eventId: '00000000-0000-4000-8000-000000000001',
      eventName: 'AuthorizeSecurityGroupIngress',
      time: '2026-11-26T03:04:05Z',
      actor: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', name: 'alice', trusted: false },
      rejected: null,
    });
    expect(lines[0].findings.map((f: { rule: string }) => f.rule)).toContain('admin-port-open-to-world');
  });

  it('includes rejected inputs with their reason and where they were', async () => {
    const { dir } = archive();
    const cli = capture();
    await run(['replay', dir, '--json'], cli.io, deps());
    const lines = jsonLines(cli.stdout());
    const notJson = lines.find((l) => l.source === join(dir, 'c-lines.jsonl:2'));
    expect(notJson).toMatchObject({ code: 'not-json', decision: null });
    expect(notJson?.rejected).toContain('c-lines.jsonl:2');
    const notARecord = lines.find((l) => l.source === `${join(dir, 'f-log.json')}#0`);
    expect(notARecord?.rejected).toEqual(expect.any(String));
    expect(lines.filter((l) => l.rejected !== null)).toHaveLength(2);
  });

  it('skips files of other types with a warning on stderr, keeping stdout clean', async () => {
    const { dir } = archive();
    const cli = capture();
    await run(['replay', dir, '--json'], cli.io, deps());
    expect(cli.stderr()).toContain(`skipping ${join(dir, 'd-notes.txt')}`);
    expect(cli.stdout()).not.toContain('d-notes.txt');
  });

  it('without an account snapshot, holds every plan that needs context and says why', async () => {
    const { dir } = archive();
    const cli = capture();
    await run(['replay', dir, '--json'], cli.io, deps());
    const acting = jsonLines(cli.stdout()).filter((l) => l.eventName === 'AuthorizeSecurityGroupIngress');
    expect(acting).toHaveLength(4);
    for (const line of acting) {
      expect(line.decision).toBe('held');
      expect(line.steps.map((s: { action: string }) => s.action)).not.toContain('revoke-rule');
    }
    expect(cli.stderr()).toContain('no account snapshot: context unknown');
  });

  it('with an account snapshot, plans to revoke exactly the offending rule, without executing', async () => {
    const { dir } = archive();
    const aws = fakeAws();
    const cli = capture();
    const code = await run(['replay', join(dir, 'a-single.json'), '--json', '--account', 'snapshot.json'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(0);
    const [line] = jsonLines(cli.stdout());
    expect(line.decision).toBe('contain');
    expect(line.dryRun).toBe(true);
    expect(line.steps[0]).toMatchObject({ action: 'revoke-rule', resource: 'sg-0abc1234abcd12345' });
    expect(aws.aws).not.toHaveBeenCalled();
  });

  it('prints a table and a summary that counts rejections by reason, rules and decisions', async () => {
    const { dir } = archive();
    const cli = capture({ columns: 100 });
    const code = await run(['replay', dir], cli.io, deps());
    expect(code).toBe(0);
    const out = cli.stdout();
    expect(out.split('\n')[0]).toMatch(/^TIME\s+ACTOR\s+EVENT\s+RULES\s+SEV\s+RESOURCES\s+DECISION$/);
    expect(out.split('\n').every((l) => l.length <= 100)).toBe(true);
    expect(out).not.toContain('\x1b[');
    expect(out).toMatch(/records read\s+9/);
    expect(out).toMatch(/events\s+7/);
    expect(out).toMatch(/rejected\s+2/);
    expect(out).toMatch(/1\s+not-json: .*c-lines\.jsonl:2/);
    expect(out).toMatch(/4\s+admin-port-open-to-world/);
    expect(out).toMatch(/4\s+held/);
    expect(out).toMatch(/3\s+no-finding/);
  });

  it('colours the table on a terminal, and never when NO_COLOR is set', async () => {
    const { dir } = archive();
    const tty = capture({ stdoutTTY: true });
    await run(['replay', join(dir, 'a-single.json')], tty.io, deps());
    expect(tty.stdout()).toContain('\x1b[');
    const noColor = capture({ stdoutTTY: true, env: { NO_COLOR: '1' } });
    await run(['replay', join(dir, 'a-single.json')], noColor.io, deps());
    expect(noColor.stdout()).not.toContain('\x1b[');
  });

  it('fails with a clear message when a path does not exist', async () => {
    const cli = capture();
    const code = await run(['replay', '/nonexistent/driftwarden-archive'], cli.io, deps());
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('cannot read /nonexistent/driftwarden-archive: no such file or folder');
    expect(cli.stdout()).toBe('');
  });

  it('fails on an invalid policy and lists every issue', async () => {
    const { dir } = archive();
    const policy = join(dir, 'bad-policy.yaml');
    writeFileSync(policy, 'rules:\n  admin-port-open-to-world:\n    mode: nuke\nadminPorts: [99999]\n');
    const cli = capture();
    const code = await run(['replay', dir, '--policy', policy], cli.io, deps());
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('rules.admin-port-open-to-world.mode');
    expect(cli.stderr()).toContain('adminPorts');
    expect(cli.stdout()).toBe('');
  });

  it('fails when the policy file is missing', async () => {
    const { dir } = archive();
    const cli = capture();
    const code = await run(['replay', dir, '--policy', join(dir, 'missing.yaml')], cli.io, deps());
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('missing.yaml does not exist');
  });

  it('rejects bad usage with exit code 2', async () => {
    const cli = capture();
    expect(await run(['replay'], cli.io, deps())).toBe(2);
    expect(cli.stderr()).toContain("missing required argument 'paths'");
  });
});

describe('driftwarden replay progress', () => {
  function manyFiles(count: number): string {
    const { dir } = archive();
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `g-${i}.json`), JSON.stringify(sshOpenRecord(`10000000-0000-4000-8000-00000000000${i}`)));
    return dir;
  }

  it('shows a progress bar on a terminal stderr for a large input, keeping stdout pure JSON Lines', async () => {
    const dir = manyFiles(6);
    const cli = capture({ stderrTTY: true });
    await run(['replay', dir, '--json'], cli.io, deps());
    expect(cli.stderr()).toContain('replay [');
    const lines = jsonLines(cli.stdout());
    expect(lines).toHaveLength(15);
  });

  it('shows no progress bar when stderr is not a terminal', async () => {
    const dir = manyFiles(6);
    const cli = capture({ stderrTTY: false });
    await run(['replay', dir, '--json'], cli.io, deps());
    expect(cli.stderr()).not.toContain('replay [');
  });
});

describe('driftwarden replay --execute', () => {
  it('refuses without --yes when stdin is not a terminal, before calling AWS', async () => {
    const { dir } = archive();
    const aws = fakeAws();
    const cli = capture({ stdinTTY: false });
    const code = await run(['replay', dir, '--execute'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('pass --yes');
    expect(aws.aws).not.toHaveBeenCalled();
  });

  it('with --yes executes each plan that has steps against the account, and reports the outcomes', async () => {
    const { dir } = archive();
    const aws = fakeAws();
    const cli = capture();
    const code = await run(['replay', dir, '--execute', '--yes', '--json'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(0);
    // The four SSH openings, in input order; the read-only calls have nothing to execute.
    expect(aws.executed.map((e) => e.event.id)).toEqual([
      '00000000-0000-4000-8000-000000000001',
      '00000000-0000-4000-8000-000000000003',
      '00000000-0000-4000-8000-000000000004',
      '00000000-0000-4000-8000-000000000006',
    ]);
    for (const { plan } of aws.executed) expect(plan.dryRun).toBe(false);
    const first = jsonLines(cli.stdout())[0];
    expect(first.outcomes[0]).toMatchObject({ action: 'revoke-rule', resource: 'sg-0abc1234abcd12345', status: 'done' });
  });

  it('does not act on events from another account than the one the environment names', async () => {
    const { dir } = archive();
    const aws = fakeAws({ account: '999999999999', region: 'eu-west-1' });
    const cli = capture();
    await run(['replay', join(dir, 'a-single.json'), '--execute', '--yes', '--json'], cli.io, deps({ aws: aws.aws }));
    expect(aws.executed).toHaveLength(0);
    const [line] = jsonLines(cli.stdout());
    expect(line.outcomes[0]).toMatchObject({ status: 'skipped' });
    expect(line.outcomes[0].detail).toContain('acts only on 999999999999');
  });

  it('asks on a terminal, counting the plans, and executes nothing when the answer is no', async () => {
    const { dir } = archive();
    const aws = fakeAws();
    const cli = capture({ stdinTTY: true, stdin: ['n\n'] });
    const code = await run(['replay', join(dir, 'a-single.json'), '--execute'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('Execute 1 plans against account 111122223333 (eu-west-1)? [y/N]');
    expect(aws.executed).toHaveLength(0);
  });

  it('executes after a yes on the terminal', async () => {
    const { dir } = archive();
    const aws = fakeAws();
    const cli = capture({ stdinTTY: true, stdin: ['y\n'] });
    const code = await run(['replay', join(dir, 'a-single.json'), '--execute'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(0);
    expect(aws.executed).toHaveLength(1);
    expect(cli.stdout()).toContain('done: revoke-rule sg-0abc1234abcd12345');
  });
});

describe('driftwarden release', () => {
  it('releases the instance and prints a JSON audit line with --json', async () => {
    const aws = fakeAws();
    const cli = capture();
    const code = await run(['release', 'i-0123456789abcdef0', '--yes', '--json', '--region', 'eu-west-1'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(0);
    expect(aws.aws).toHaveBeenCalledWith({ region: 'eu-west-1' });
    expect(aws.released).toEqual(['i-0123456789abcdef0']);
    const [audit] = jsonLines(cli.stdout());
    expect(audit).toMatchObject({
      schema: 'driftwarden.audit/v1',
      type: 'release',
      instanceId: 'i-0123456789abcdef0',
      account: '111122223333',
      actor: 'arn:aws:iam::111122223333:user/oncall',
      time: '2026-11-26T04:00:00.000Z',
      result: 'released',
    });
  });

  it('records the release in the audit trail when the deployment names one, and says where', async () => {
    const aws = fakeAws();
    const runtime = await aws.aws();
    const recordRelease = jest.fn(async () => 'audit trail driftwarden-state');
    aws.aws.mockImplementation(async () => ({ ...runtime, recordRelease }));
    const cli = capture();
    const code = await run(['release', 'i-0123456789abcdef0', '--yes', '--json'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(0);
    expect(recordRelease).toHaveBeenCalledWith({
      instanceId: 'i-0123456789abcdef0',
      time: '2026-11-26T04:00:00.000Z',
      outcomes: [expect.objectContaining({ action: 'isolate-instance', status: 'done' })],
      released: true,
      actor: 'arn:aws:iam::111122223333:user/oncall',
    });
    expect(jsonLines(cli.stdout())[0]).toMatchObject({ audit: 'recorded in the audit trail driftwarden-state' });
  });

  it('says so when the release could not be written to the audit trail', async () => {
    const aws = fakeAws();
    const runtime = await aws.aws();
    aws.aws.mockImplementation(async () => ({ ...runtime, recordRelease: async () => Promise.reject(new Error('AccessDenied: dynamodb:PutItem')) }));
    const cli = capture();
    await run(['release', 'i-0123456789abcdef0', '--yes'], cli.io, deps({ aws: aws.aws }));
    expect(cli.stderr()).toContain('NOT recorded in the audit trail: AccessDenied: dynamodb:PutItem');
  });

  it('says plainly when a release step failed, and exits non-zero', async () => {
    const aws = fakeAws();
    aws.setReleaseOutcomes([
      { action: 'isolate-instance', resource: 'i-0123456789abcdef0', status: 'done', detail: 'restored groups' },
      { action: 'tag', resource: 'i-0123456789abcdef0', status: 'failed', detail: 'AccessDenied: ec2:DeleteTags' },
    ]);
    const cli = capture();
    const code = await run(['release', 'i-0123456789abcdef0', '--yes'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(1);
    expect(cli.stdout().split('\n')[0]).toBe('FAILED: tag i-0123456789abcdef0: AccessDenied: ec2:DeleteTags');
    expect(cli.stdout()).toContain('was NOT fully released');
  });

  it('rejects something that is not an instance id, without calling AWS', async () => {
    const aws = fakeAws();
    const cli = capture();
    const code = await run(['release', 'sg-0abc', '--yes'], cli.io, deps({ aws: aws.aws }));
    expect(code).toBe(2);
    expect(cli.stderr()).toContain('must be an instance id');
    expect(aws.aws).not.toHaveBeenCalled();
  });

  it('refuses without --yes when stdin is not a terminal', async () => {
    const aws = fakeAws();
    const cli = capture();
    expect(await run(['release', 'i-0123456789abcdef0'], cli.io, deps({ aws: aws.aws }))).toBe(1);
    expect(aws.released).toEqual([]);
  });
});

describe('driftwarden replay of the shipped samples', () => {
  const events = join(__dirname, '..', '..', 'events');

  it('contains the SSH opening with the account snapshot: revoke the offending rule first, then alert', async () => {
    const cli = capture();
    const code = await run(
      ['replay', join(events, 'positive', 'admin-port-ssh-open-to-world.json'), '--policy', join(events, 'policy.yaml'), '--account', join(events, 'account-snapshot.json'), '--json'],
      cli.io,
      defaultDeps(),
    );
    expect(code).toBe(0);
    const [line] = jsonLines(cli.stdout());
    expect(line.decision).toBe('contain');
    expect(line.steps[0].action).toBe('revoke-rule');
    expect(line.findings.map((f: { rule: string }) => f.rule)).toContain('admin-port-open-to-world');
  });

  it('rejects every invalid sample with its reason, and never plans for it', async () => {
    const cli = capture();
    await run(['replay', join(events, 'invalid'), '--json'], cli.io, defaultDeps());
    const lines = jsonLines(cli.stdout());
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      expect(line.rejected).toEqual(expect.any(String));
      expect(line.steps).toEqual([]);
    }
  });

  it('does not replay the snapshot or the policy when they sit in the replayed folder', async () => {
    const cli = capture();
    await run(['replay', events, '--policy', join(events, 'policy.yaml'), '--account', join(events, 'account-snapshot.json'), '--json'], cli.io, defaultDeps());
    const sources = jsonLines(cli.stdout()).map((l) => l.source as string);
    expect(sources.some((s) => s.includes('account-snapshot.json'))).toBe(false);
    expect(cli.stderr()).not.toContain(`skipping ${join(events, 'policy.yaml')}`);
  });
});
