/**
 * The `driftwarden` command line.
 *
 *   driftwarden replay PATH... [--policy FILE] [--account SNAPSHOT] [--json] [--execute] [--yes] [--workers N]
 *   driftwarden release INSTANCE_ID [--region R] [--yes] [--json]
 *
 * `run(argv, io, deps)` is the whole program, in-process: tests call it with captured streams.
 * Exit codes: 0 ran; 1 failed (unreadable input, invalid policy or snapshot, refused, a failed
 * release step); 2 bad usage.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { DriftwardenError, PolicyError } from '../core/errors';
import { defaultDeps } from './deps';
import type { CliDeps } from './deps';
import { processIo, readLine } from './io';
import type { CliIo } from './io';
import { CliFailure, replay } from './replay';

export const VERSION = '0.1.0';
const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The replay worker bundle, built beside the CLI bundle (scripts/build.mjs). */
export const WORKER_BUNDLE = 'replay-worker.js';

/**
 * The deps of the command as installed: the defaults, and, when this file is the CLI bundle
 * (dist/cli/driftwarden.js) with the worker bundle beside it, that bundle as the script of
 * replay workers (see worker-main.ts).
 */
export function installedDeps(): CliDeps {
  const workerScript = join(__dirname, WORKER_BUNDLE);
  return { ...defaultDeps(), ...(__filename.endsWith('.js') && existsSync(workerScript) ? { workerScript } : {}) };
}

export async function run(argv: string[], io: CliIo = processIo(), deps: CliDeps = installedDeps()): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('driftwarden')
    .description('Enforce immutable infrastructure on AWS: replay recorded events, or release a quarantined instance.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run driftwarden --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  program
    .command('replay')
    .description('Plan (or with --execute, carry out) the response to recorded CloudTrail and Config events.')
    .argument('<paths...>', 'files or folders: .json (event, record, array, or {"Records":[...]}), .jsonl, .json.gz')
    .option('--policy <file>', 'policy YAML (default: the built-in default policy)')
    .option('--account <snapshot>', 'account snapshot JSON for context (default: none, so every lookup is unknown and plans are held)')
    .option('--json', 'one JSON object per input on stdout (JSON Lines), summary on stderr', false)
    .option('--execute', 'carry out the plans against the account the environment names (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL)', false)
    .option('--yes', 'do not ask for confirmation before --execute', false)
    .option('--workers <n>', 'worker threads for a large dry run (default: one per core, at most 4, when the input is large; 0: replay in one thread)', (value: string) => {
      if (!/^\d+$/.test(value) || Number(value) > 64) throw new InvalidArgumentError('must be a whole number from 0 to 64.');
      return Number(value);
    })
    .action(async (paths: string[], opts: { policy?: string; account?: string; json: boolean; execute: boolean; yes: boolean; workers?: number }) => {
      if (opts.execute && opts.account) throw new CliFailure('--account is for dry runs; --execute reads context from the account itself.', 2);
      if (opts.execute && opts.workers) throw new CliFailure('--workers is for dry runs; --execute acts in one thread, in input order.', 2);
      exitCode = await replay({ paths, ...opts }, io, deps);
    });

  program
    .command('release')
    .description('Release an instance driftwarden isolated: restore its network interfaces and lift the forensic hold.')
    .argument('<instance-id>', 'the quarantined instance (i-…)', (value: string) => {
      if (!INSTANCE_ID.test(value)) throw new InvalidArgumentError('must be an instance id such as i-0123456789abcdef0.');
      return value;
    })
    .option('--region <region>', 'region of the instance (default: AWS_REGION)', (value: string) => {
      if (!REGION.test(value)) throw new InvalidArgumentError('must be a region such as eu-west-1.');
      return value;
    })
    .option('--yes', 'do not ask for confirmation', false)
    .option('--json', 'print the audit record as one JSON line', false)
    .action(async (instanceId: string, opts: { region?: string; yes: boolean; json: boolean }) => {
      exitCode = await release(instanceId, opts, io, deps);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io);
  }
}

async function release(instanceId: string, opts: { region?: string; yes: boolean; json: boolean }, io: CliIo, deps: CliDeps): Promise<number> {
  if (!opts.yes && io.stdin.isTTY !== true) {
    throw new CliFailure('release needs confirmation, and stdin is not a terminal: pass --yes to release without asking.');
  }
  const runtime = await deps.aws({ region: opts.region });
  if (!opts.yes) {
    io.stderr.write(`Release ${instanceId} in account ${runtime.target.account} (${runtime.target.region})? [y/N] `);
    const answer = (await readLine(io.stdin))?.trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.stderr.write('\nNot released.\n');
      return 1;
    }
  }
  const time = io.now().toISOString();
  const outcomes = await runtime.release(instanceId);
  const failed = outcomes.filter((o) => o.status === 'failed');
  // A release is recorded like any other action: in the deployment's audit trail when the
  // environment names it (DRIFTWARDEN_STATE_TABLE), and always as the audit line below.
  let recorded: string;
  if (!runtime.recordRelease) recorded = 'not recorded in an audit table: DRIFTWARDEN_STATE_TABLE is not set';
  else {
    try {
      recorded = `recorded in the ${await runtime.recordRelease({ instanceId, time, outcomes, released: failed.length === 0, ...(runtime.target.callerArn ? { actor: runtime.target.callerArn } : {}) })}`;
    } catch (err) {
      recorded = `NOT recorded in the audit trail: ${(err as Error).message ?? String(err)}`;
    }
  }
  io.stderr.write(`${recorded}\n`);
  if (opts.json) {
    const audit = {
      schema: 'driftwarden.audit/v1',
      type: 'release',
      time,
      instanceId,
      account: runtime.target.account,
      region: runtime.target.region,
      actor: runtime.target.callerArn ?? null,
      outcomes,
      result: failed.length > 0 ? 'failed' : 'released',
      audit: recorded,
    };
    io.stdout.write(`${JSON.stringify(audit)}\n`);
  } else {
    for (const o of [...failed, ...outcomes.filter((x) => x.status !== 'failed')]) {
      io.stdout.write(`${o.status === 'failed' ? 'FAILED' : o.status}: ${o.action} ${o.resource}: ${o.detail}\n`);
    }
    io.stdout.write(failed.length > 0 ? `${instanceId} was NOT fully released: ${failed.length} step(s) failed.\n` : `${instanceId} released.\n`);
  }
  return failed.length > 0 ? 1 : 0;
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (help, version, usage errors).
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof CliFailure) {
    io.stderr.write(`driftwarden: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof PolicyError) {
    io.stderr.write(`driftwarden: ${err.message}\n`);
    // The message lists the issues; print any it does not, so none is ever hidden.
    for (const issue of err.issues) {
      const where = issue.line !== undefined ? `:${issue.line}:${issue.column ?? 1}` : '';
      if (!err.message.includes(`${issue.path}: ${issue.message}`)) io.stderr.write(`  ${where} ${issue.path}: ${issue.message}\n`);
    }
    return 1;
  }
  if (err instanceof DriftwardenError) {
    io.stderr.write(`driftwarden: ${err.message}\n`);
    return 1;
  }
  io.stderr.write(`driftwarden: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`driftwarden: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
