/**
 * Time to containment: the BUILT responder bundle, in a warm container of its own (a forked
 * Node process), against the fake AWS of fake-aws.ts, which answers every call after a fixed
 * delay. With a delay far larger than local work, elapsed time divided by the delay is the
 * number of sequential round trips, and the call log shows which calls waited for which.
 *
 * For each positive sample in events/positive whose plan contains revoke-rule or
 * isolate-instance (enforce mode, events/policy.yaml, fresh state tables per sample).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startFakeAws, type AccountSnapshot, type CallRecord, type FakeAws } from './fake-aws';
import { REPO } from './proc';
import { idempotencyTableDefinition, stateTableDefinition } from '../../functions/aws/state/tables';

const BUNDLE = join(REPO, 'dist', 'functions', 'responder', 'index.mjs');
const CONTAINMENT_ACTIONS = new Set(['RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress', 'ModifyNetworkInterfaceAttribute']);
const MUTATING = /^(Revoke|Authorize|Modify|Create|Delete|Detach|Update|Terminate|Publish|Put|Deregister|Transact|BatchWrite)/;

export interface AnalysedCall extends CallRecord {
  /** 1 + the depth of the deepest call that had completed when this one was sent. */
  depth: number;
  /** Repeats a read (same service, action and target) that had already been answered or sent. */
  repeatedRead: boolean;
}

export interface SampleResult {
  sample: string;
  steps: string[];
  kind: 'revoke' | 'isolate';
  status: string;
  outcomes: { action: string; resource: string; status: string; detail: string }[];
  error?: string;
  calls: AnalysedCall[];
  /** In units of the delay, from the handler's start. */
  containmentRoundTrips?: number;
  containmentElapsed?: number;
  totalElapsed: number;
  totalRoundTrips: number;
  /** Calls a plan of this shape needs at the least: every call except repeats of an identical read. */
  minimumCalls: number;
  target: number;
  /** Notify and evidence calls whose depth is above containment's: they followed rather than overlapped. */
  followers: string[];
}

export interface ContainmentResults {
  delayMs: number;
  samples: SampleResult[];
  skipped: string[];
}

/** Depth of every call: the round trip it went out in, counting only calls that had completed before it was sent. */
export function analyseCalls(calls: CallRecord[], delayMs: number): AnalysedCall[] {
  const sorted = [...calls].sort((a, b) => a.arrivedMs - b.arrivedMs);
  const out: AnalysedCall[] = [];
  const seen = new Set<string>();
  // Tolerance: the time between a call's answer and the next request is local work (well under the delay).
  const slack = delayMs * 0.02;
  for (const call of sorted) {
    let depth = 1;
    for (const prior of out) if (prior.completedMs <= call.arrivedMs + slack && prior.depth + 1 > depth) depth = prior.depth + 1;
    const key = `${call.service} ${call.action} ${call.target}`;
    const read = !MUTATING.test(call.action) && call.service !== 'dynamodb';
    out.push({ ...call, depth, repeatedRead: read && seen.has(key) });
    if (read) seen.add(key);
  }
  return out;
}

async function startDynalite(): Promise<{ server: Server; endpoint: string }> {
  // dynalite ships no type declarations.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (o: Record<string, number>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function createTables(endpoint: string, suffix: string): Promise<{ idempotency: string; state: string }> {
  const client = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const tables = { idempotency: `driftwarden-idempotency-${suffix}`, state: `driftwarden-state-${suffix}` };
  await client.send(new CreateTableCommand(idempotencyTableDefinition(tables.idempotency)));
  await client.send(new CreateTableCommand(stateTableDefinition(tables.state)));
  client.destroy();
  return tables;
}

/** The plan of each positive sample, from a dry replay with the sample snapshot (the built CLI, in-process). */
function plannedSteps(): Map<string, string[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const res = spawnSync(
    process.execPath,
    [join(REPO, 'dist/cli/driftwarden.js'), 'replay', join(REPO, 'events/positive'), '--policy', join(REPO, 'events/policy.yaml'), '--account', join(REPO, 'events/account-snapshot.json'), '--json'],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  const plans = new Map<string, string[]>();
  for (const line of res.stdout.split('\n').filter(Boolean)) {
    const row = JSON.parse(line) as { source: string; steps: { action: string; resource: string }[] };
    plans.set(row.source.split('/').pop()!, row.steps.map((s) => `${s.action} ${s.resource}`));
  }
  return plans;
}

interface ChildReport {
  type: string;
  startedNs?: string;
  endedNs?: string;
  summary?: { status: string; outcomes?: SampleResult['outcomes'] };
  error?: string;
}

function runSample(fake: FakeAws, env: NodeJS.ProcessEnv, sampleFile: string): Promise<{ report: ChildReport; calls: CallRecord[]; output: string }> {
  return new Promise((resolve, reject) => {
    const warmup = join(REPO, 'events/negative/read-only-describe-instances.json');
    const child = fork(join(__dirname, 'containment-child.cjs'), [BUNDLE, warmup, sampleFile], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${sampleFile}: no answer within 120 s; output: ${output}`));
    }, 120_000);
    child.on('message', (message: ChildReport) => {
      if (message.type === 'ready') {
        fake.reset();
        child.send('go');
      } else {
        clearTimeout(timer);
        resolve({ report: message, calls: [...fake.calls], output });
      }
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) {
        clearTimeout(timer);
        reject(new Error(`${sampleFile}: responder process exited ${code}: ${output}`));
      }
    });
  });
}

export async function benchContainment(delayMs: number, log: (line: string) => void): Promise<ContainmentResults> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} does not exist: run node scripts/build.mjs first`);
  const snapshot = JSON.parse(readFileSync(join(REPO, 'events/account-snapshot.json'), 'utf8')) as AccountSnapshot;
  const plans = plannedSteps();
  const dynamo = await startDynalite();
  const fake = await startFakeAws({ snapshot, delayMs, dynamodbEndpoint: dynamo.endpoint });
  const results: ContainmentResults = { delayMs, samples: [], skipped: [] };
  try {
    const samples = readdirSync(join(REPO, 'events/positive')).filter((f) => f.endsWith('.json')).sort();
    let n = 0;
    for (const sample of samples) {
      const steps = plans.get(sample) ?? [];
      const kind = steps.some((s) => s.startsWith('revoke-rule')) ? 'revoke' : steps.some((s) => s.startsWith('isolate-instance')) ? 'isolate' : undefined;
      if (!kind) {
        results.skipped.push(sample);
        continue;
      }
      n++;
      const tables = await createTables(dynamo.endpoint, `${process.pid}-${n}`);
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        AWS_REGION: snapshot.region,
        AWS_ENDPOINT_URL: fake.endpoint,
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_MAX_ATTEMPTS: '1',
        DRIFTWARDEN_MAX_ATTEMPTS: '1',
        DRIFTWARDEN_TOPIC_ARN: `arn:aws:sns:${snapshot.region}:${snapshot.accountId}:driftwarden-alerts`,
        DRIFTWARDEN_TABLE: tables.idempotency,
        DRIFTWARDEN_STATE_TABLE: tables.state,
        DRIFTWARDEN_POLICY: join(REPO, 'events/policy.yaml'),
        DRIFTWARDEN_GLOBAL_MODE: 'enforce',
        DRIFTWARDEN_KILL_SWITCH_PARAMETER: '/driftwarden/kill-switch',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_DEV: 'false',
      };
      log(`containment: ${sample}`);
      const { report, calls, output } = await runSample(fake, env, join(REPO, 'events/positive', sample));
      const origin = fake.originNs();
      const started = report.startedNs ? Number(BigInt(report.startedNs) - origin) / 1e6 : 0;
      const ended = report.endedNs ? Number(BigInt(report.endedNs) - origin) / 1e6 : 0;
      const analysed = analyseCalls(calls, delayMs).map((c) => ({ ...c, arrivedMs: c.arrivedMs - started, completedMs: c.completedMs - started }));
      const containment = analysed.filter((c) => c.service === 'ec2' && CONTAINMENT_ACTIONS.has(c.action) && c.status < 300);
      const last = containment.reduce<AnalysedCall | undefined>((a, c) => (!a || c.completedMs > a.completedMs ? c : a), undefined);
      const containmentDepth = containment.reduce((m, c) => Math.max(m, c.depth), 0);
      const followers = analysed
        .filter((c) => (c.action === 'Publish' || c.action === 'CreateSnapshot' || c.action === 'CreateTags') && containmentDepth > 0 && c.depth > containmentDepth)
        .map((c) => `${c.action} (round trip ${c.depth})`);
      results.samples.push({
        sample,
        steps,
        kind,
        status: report.summary?.status ?? report.type,
        outcomes: report.summary?.outcomes ?? [],
        ...(report.error || report.type === 'failed' ? { error: `${report.error ?? ''} ${output.slice(-600)}`.trim() } : {}),
        calls: analysed,
        ...(last ? { containmentRoundTrips: containmentDepth, containmentElapsed: last.completedMs / delayMs } : {}),
        totalElapsed: (ended - started) / delayMs,
        totalRoundTrips: analysed.reduce((m, c) => Math.max(m, c.depth), 0),
        minimumCalls: analysed.filter((c) => !c.repeatedRead).length,
        target: kind === 'revoke' ? 2 : 3,
        followers,
      });
    }
  } finally {
    await fake.close();
    await new Promise<void>((resolve) => dynamo.server.close(() => resolve()));
  }
  return results;
}
