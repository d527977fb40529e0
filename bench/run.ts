/**
 * `npm run bench`: builds (scripts/build.mjs), then measures cold start, time to containment
 * and replay throughput, and writes BENCHMARKS.md with the figures, the machine and the date.
 *
 *   tsx bench/run.ts [--only coldstart,containment,replay] [--runs 20] [--delay 50] [--replay-rounds 3]
 *
 * With --only, the markdown goes to stdout and BENCHMARKS.md is left alone (a partial run
 * must not overwrite a full one).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchColdStart, INIT_CODE_BUDGET_BYTES, type ColdStartResults } from './lib/coldstart';
import { benchContainment, type ContainmentResults, type SampleResult } from './lib/containment';
import { REPO } from './lib/proc';
import { benchReplay, type ReplayResults, type ThroughputRun } from './lib/replay';
import { formatBytes, ratio } from './lib/stats';

interface Args {
  only: Set<string>;
  runs: number;
  delayMs: number;
  /** Rounds of floor + replay (the median ratio is reported). */
  replayRounds: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: new Set(['coldstart', 'containment', 'replay']), runs: 20, delayMs: 50, replayRounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--only' && value) {
      args.only = new Set(value.split(','));
      i++;
    } else if (argv[i] === '--runs' && value) {
      args.runs = Math.max(1, Number.parseInt(value, 10) || 20);
      i++;
    } else if (argv[i] === '--replay-rounds' && value) {
      args.replayRounds = Math.max(1, Number.parseInt(value, 10) || 3);
      i++;
    } else if (argv[i] === '--delay' && value) {
      args.delayMs = Math.max(5, Number.parseInt(value, 10) || 50);
      i++;
    }
  }
  return args;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const ms = (n: number | undefined) => (n === undefined ? 'n/a' : `${n.toFixed(1)} ms`);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const decimalKb = (bytes: number) => `${(bytes / 1000).toFixed(0)} KB`;
const pass = (ok: boolean) => (ok ? 'met' : '**missed**');

function machine(): string[] {
  const cpu = cpus();
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} GiB free at the end), ${platform()} ${release()}`,
    `- Node ${process.version}`,
  ];
}

function coldStartSection(r: ColdStartResults): string[] {
  const ref = r.variants.find((v) => v.kind === 'reference');
  const empty = r.variants.find((v) => v.kind === 'empty');
  const refLoad = ref?.load?.median;
  const out = [
    '## 1. Cold start',
    '',
    `Each bundle is loaded by a fresh \`node\` process, ${r.runs} times, all variants in turn (bench/lib/load-once.cjs). "Load" is the \`require()\` of a CommonJS bundle, or the \`import()\` of an ES module with every chunk it imports statically (the deployed functions: index.mjs): what Lambda's init phase adds to the runtime's own start. "Since start" is from the process's time origin to the end of that load. Medians, with the interquartile range. "Bundle" and "Gzipped" are the code that load reads: for the deployed functions, the entry and its static chunks, not the chunks loaded on first use. Gzip is level 9 (what the code costs to ship); the deployment package is every file in the function's folder, deflated one by one as a zip would.`,
    '',
    '| Variant | Bundle | Gzipped | Load (median) | IQR | Since start | Load vs reference |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of r.variants) {
    const iqr = v.load ? `${v.load.p25.toFixed(1)}–${v.load.p75.toFixed(1)}` : '';
    out.push(`| ${v.name}${v.error ? ` (failed: ${v.error})` : ''} | ${kb(v.size.raw)} | ${kb(v.size.gzip)} | ${ms(v.load?.median)} | ${iqr} | ${ms(v.sinceStart?.median)} | ${v.load && refLoad ? ratio(v.load.median, refLoad) : 'n/a'} |`);
  }
  out.push(
    '',
    '| Function | Deployment package (files) | Raw | Zipped | All code (files): raw / gzipped | Loaded before the first event: raw / gzipped | ≤ 250 KB gzipped | SDK clients loaded on first use |',
    '|---|---:|---:|---:|---:|---:|---|---|',
  );
  for (const v of r.variants.filter((x) => x.kind === 'deployed')) {
    const p = v.deploymentPackage;
    const all = v.allCode;
    out.push(
      `| ${v.function} | ${p?.files ?? 0} | ${p ? formatBytes(p.raw) : ''} | ${p ? formatBytes(p.gzip) : ''} | ${all ? `${kb(all.raw)} / ${kb(all.gzip)} (${all.files})` : ''} | ${kb(v.size.raw)} / ${kb(v.size.gzip)} (${decimalKb(v.size.gzip)}) | ${pass(v.size.gzip <= INIT_CODE_BUDGET_BYTES)} | ${(v.sdkClientsOnFirstUse ?? []).map((c) => c.replace('@aws-sdk/client-', '')).join(', ') || 'none'} |`,
    );
  }
  const responder = r.variants.find((v) => v.kind === 'deployed' && v.function === 'responder');
  const firstUse = r.variants.find((v) => v.kind === 'first-use');
  const samResponder = r.variants.find((v) => v.kind === 'sam-defaults' && v.function === 'responder');
  out.push('', '**Targets**', '');
  if (responder?.load && refLoad) {
    out.push(`- Responder init ≤ 0.5× the reference: ${ratio(responder.load.median, refLoad)} (${ms(responder.load.median)} against ${ms(refLoad)}): ${pass(responder.load.median <= 0.5 * refLoad)}.`);
  }
  if (firstUse?.load && refLoad) {
    out.push(`- Responder init plus building its containment clients (what the first event adds, since the clients are built on first use): ${ratio(firstUse.load.median, refLoad)} of the reference.`);
  }
  if (responder?.load && samResponder?.load) {
    out.push(`- The same responder built with SAM's default settings: ${kb(samResponder.size.raw)} (${kb(samResponder.size.gzip)} gzipped), load ${ms(samResponder.load.median)}; the project's settings give ${ratio(responder.size.raw, samResponder.size.raw)} the size and ${ratio(responder.load.median, samResponder.load.median)} the load time.`);
  }
  if (empty?.load) out.push(`- The empty handler (Node's own start, the floor): load ${ms(empty.load.median)}, since start ${ms(empty.sinceStart?.median)}.`);
  out.push('', `SDK clients in the reference: ${ref?.sdkClients.join(', ') ?? 'none'}.`);
  for (const v of r.variants.filter((x) => x.kind === 'deployed')) out.push(`SDK clients in ${v.function}: ${v.sdkClients.join(', ') || 'none'}.`);
  return out;
}

function chain(s: SampleResult): string[] {
  const byDepth = new Map<number, string[]>();
  for (const c of s.calls) {
    const list = byDepth.get(c.depth) ?? [];
    list.push(`${c.service} ${c.action}${c.target ? ` ${c.target.slice(0, 60)}` : ''}${c.repeatedRead ? ' (repeat)' : ''}`);
    byDepth.set(c.depth, list);
  }
  return [...byDepth.entries()].sort((a, b) => a[0] - b[0]).map(([d, calls]) => `${String(d).padStart(2)}: ${calls.join(' | ')}`);
}

function containmentSection(r: ContainmentResults): string[] {
  const out = [
    '## 2. Time to containment',
    '',
    `The built responder (dist/functions/responder/index.mjs) runs in a warm container of its own (a forked Node process, warmed with one negative sample) against a local fake AWS (bench/lib/fake-aws.ts) that answers every call after ${r.delayMs} ms and logs when each call arrived and was answered; DynamoDB calls pass through to dynalite, the rest are answered from events/account-snapshot.json, with the VPC's isolation and allow-all groups already in place. Enforce mode, events/policy.yaml, fresh tables per sample. A call's *round trip* is 1 + that of the latest call that had been answered before it was sent; "elapsed" is wall time from the handler's start divided by the delay (local work adds the fraction). "Minimum calls" counts every call except repeats of an identical read.`,
    '',
    '| Sample | Plan | Contained after (round trips) | Target | Elapsed to containment (× delay) | Whole invocation (round trips / × delay) | AWS calls | Minimum | Notify / evidence after containment |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const s of r.samples) {
    const met = s.containmentRoundTrips !== undefined && s.containmentRoundTrips <= s.target;
    out.push(
      `| ${s.sample.replace(/\.json$/, '')} | ${s.kind} (${s.status}) | ${s.containmentRoundTrips ?? 'not contained'} | ≤ ${s.target}: ${pass(met)} | ${s.containmentElapsed?.toFixed(2) ?? 'n/a'} | ${s.totalRoundTrips} / ${s.totalElapsed.toFixed(2)} | ${s.calls.length} | ${s.minimumCalls} | ${s.followers.join(', ') || 'overlapped'} |`,
    );
  }
  out.push('', 'Every call, by round trip (the sequential chain), for each sample:', '');
  for (const s of r.samples) {
    out.push(`<details><summary>${s.sample}: ${s.steps.join(', ')}</summary>`, '', '```', ...chain(s), '```', '');
    for (const o of s.outcomes) out.push(`- ${o.action} ${o.resource}: ${o.status}`);
    if (s.error) out.push(`- error: ${s.error}`);
    out.push('', '</details>', '');
  }
  out.push(`Skipped (no revoke-rule or isolate-instance in the plan): ${r.skipped.join(', ')}.`);
  return out;
}

function row(name: string, t: ThroughputRun, floor: ThroughputRun): string {
  return `| ${name} | ${t.files} | ${t.records.toLocaleString('en')} | ${(t.wallMs / 1000).toFixed(1)} s | ${Math.round(t.recordsPerSecond).toLocaleString('en')} | ${t.mbPerSecond.toFixed(1)} | ${t.gzMbPerSecond.toFixed(2)} | ${(t.maxRssKiB / 1024).toFixed(0)} MiB | ${ratio(t.recordsPerSecond, floor.recordsPerSecond)} |`;
}

function replaySection(r: ReplayResults): string[] {
  const a = r.archive;
  const share = r.replay.recordsPerSecond / r.floor.recordsPerSecond;
  const growth = r.replay.maxRssKiB / Math.max(1, r.replay100.maxRssKiB);
  return [
    '## 3. Replay throughput',
    '',
    `Archive: ${a.files.length} CloudTrail log files, ${a.records.toLocaleString('en')} records (${a.writes.toLocaleString('en')} writes, ${((100 * a.writes) / a.records).toFixed(1)}%), ${(a.compressedBytes / 1e6).toFixed(0)} MB gzipped, ${(a.uncompressedBytes / 1e6).toFixed(0)} MB of JSON, generated by bench/lib/generate.ts (seed fixed) into bench/.data/archive${a.generatedNow ? ` in this run (${((a.generateMs ?? 0) / 1000).toFixed(0)} s)` : ' (reused: generated on an earlier run)'}. The floor and the replay run back to back, ${r.rounds.length} rounds, the order alternating (the machine is shared: a busy neighbour then weighs on both runs of a round); the table shows the round whose ratio is the median, and every round's ratio is listed under it. Replay: \`node dist/cli/driftwarden.js replay bench/.data/archive --policy events/policy.yaml --account events/account-snapshot.json --json > /dev/null\`. Floor: read + gunzip + JSON.parse of the same files, the same way the CLI reads them (bench/lib/floor.cjs). MB/s is of uncompressed JSON; gz MB/s of the files as stored. Peak memory is the child's own maxRSS.`,
    '',
    '| Run | Files | Records | Wall | Records/s | MB/s | gz MB/s | Peak RSS | vs floor |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    row('floor: gunzip + JSON.parse', r.floor, r.floor),
    row('driftwarden replay', r.replay, r.floor),
    row('driftwarden replay, first 100 files', r.replay100, r.floor),
    '',
    `Every round (floor wall / replay wall, ratio): ${r.rounds.map((x, i) => `${i + 1}. ${(x.floor.wallMs / 1000).toFixed(1)} s / ${(x.replay.wallMs / 1000).toFixed(1)} s, ${x.ratio.toFixed(2)}× (${x.first} first)`).join('; ')}.`,
    '',
    '**Targets**',
    '',
    `- Replay ≥ 85% of the floor: ${(100 * share).toFixed(0)}% (median of ${r.rounds.length} rounds; lowest ${(100 * Math.min(...r.rounds.map((x) => x.ratio))).toFixed(0)}%, highest ${(100 * Math.max(...r.rounds.map((x) => x.ratio))).toFixed(0)}%): ${pass(share >= 0.85)}.`,
    `- Peak memory does not grow with the number of files: 1,000 files ${(r.replay.maxRssKiB / 1024).toFixed(0)} MiB against 100 files ${(r.replay100.maxRssKiB / 1024).toFixed(0)} MiB (${growth.toFixed(2)}×): ${pass(growth <= 1.25)}.`,
    '',
    'The replay\'s own summary:',
    '',
    '```',
    ...r.replaySummary.split('\n'),
    '```',
  ];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const sections: string[][] = [];
  if (args.only.has('coldstart')) sections.push(coldStartSection(await benchColdStart(args.runs, log)));
  if (args.only.has('containment')) sections.push(containmentSection(await benchContainment(args.delayMs, log)));
  if (args.only.has('replay')) sections.push(replaySection(benchReplay(log, args.replayRounds)));
  const full = args.only.size === 3;
  const doc = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand. Every figure below comes from one run on the machine named here; compare ratios within a run, not absolute times across machines.',
    '',
    ...machine(),
    `- Whole run: ${((Date.now() - started) / 1000).toFixed(0)} s (after the build)`,
    '',
    '## How to run',
    '',
    '```sh',
    'npm run bench                                   # build, then all three; writes BENCHMARKS.md (~5 min on 2 cores)',
    'npx tsx bench/run.ts --only coldstart --runs 20  # one part (after npm run build); prints markdown, leaves BENCHMARKS.md alone',
    'npx tsx bench/run.ts --only containment --delay 50',
    'npx tsx bench/run.ts --only replay --replay-rounds 3',
    '```',
    '',
    'The replay archive is generated into bench/.data/ (gitignored) on the first run only, about 100 MB; delete bench/.data/ to regenerate it. Nothing needs AWS credentials or the network.',
    '',
    ...sections.flatMap((s) => [...s, '']),
    ...notes(),
  ].join('\n');
  if (full) {
    writeFileSync(join(REPO, 'BENCHMARKS.md'), `${doc}\n`);
    log(`bench: wrote BENCHMARKS.md in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } else {
    process.stdout.write(`${doc}\n`);
  }
}

/** Findings and the reading of the figures, kept in bench/notes.md so a run never loses them. */
function notes(): string[] {
  try {
    return readFileSync(join(REPO, 'bench', 'notes.md'), 'utf8').split('\n');
  } catch {
    return [];
  }
}

main().catch((err: unknown) => {
  log(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});

