/**
 * The deployed functions are ES modules split into chunks (scripts/esbuild-settings.cjs): what
 * a function loads at init is its index.mjs and the chunks that imports statically; the rest
 * is loaded on first use. These tests read the build's metafiles and hold the split to what the
 * code promises: containment's clients at init, the rest later, and issue 8's budget of 250 KB
 * gzipped for the code loaded before the first event.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { INIT_CODE_BUDGET_BYTES, sizeOfFiles, splitBuild, type SplitBuild } from '../../bench/lib/coldstart';
import expected from '../../events/expected.json';
import { compareSelfTest, type ExpectedSample } from '../../functions/hook/compare';
import type { SelfTestResult } from '../../functions/responder/self-test';
import { ensureBuilt, FUNCTIONS, functionBundle, functionMeta, ROOT, type FunctionName } from '../helpers/build';


const splits = new Map<FunctionName, SplitBuild & { inputsAtInit: string[] }>();

beforeAll(async () => {
  await ensureBuilt();
  for (const name of FUNCTIONS) {
    const meta = JSON.parse(readFileSync(functionMeta(name), 'utf8')) as Metafile;
    const split = splitBuild(meta, `functions/${name}/index.ts`, ROOT);
    const inputsAtInit = split.loadedAtInit.flatMap((file) => Object.keys(meta.outputs[relative(ROOT, file)].inputs));
    splits.set(name, { ...split, inputsAtInit });
  }
}, 180_000);


describe('what each function loads before its first event', () => {
  it.each(FUNCTIONS.map((f) => [f]))('%s: at most 250 KB gzipped', (name) => {
    const { gzip } = sizeOfFiles(splits.get(name)!.loadedAtInit);
    expect({ name, gzip, withinBudget: gzip <= INIT_CODE_BUDGET_BYTES }).toEqual({ name, gzip, withinBudget: true });
  });

  it('the responder loads at init the clients containment calls, and the others on first use', () => {
    const split = splits.get('responder')!;
    expect(split.sdkClientsAtInit).toEqual(
      expect.arrayContaining(['@aws-sdk/client-cloudformation', '@aws-sdk/client-dynamodb', '@aws-sdk/client-ec2', '@aws-sdk/client-sns', '@aws-sdk/client-ssm']),
    );
    expect(split.sdkClientsOnFirstUse.sort()).toEqual([
      '@aws-sdk/client-auto-scaling',
      '@aws-sdk/client-cloudtrail',
      '@aws-sdk/client-config-service',
      '@aws-sdk/client-elastic-load-balancing-v2',
    ]);
  });

  it('the sweeper loads the Organizations client only on first use (Organization mode)', () => {
    const split = splits.get('sweeper')!;
    expect(split.sdkClientsAtInit).not.toContain('@aws-sdk/client-organizations');
    expect(split.sdkClientsOnFirstUse).toContain('@aws-sdk/client-organizations');
  });

  it.each(FUNCTIONS.map((f) => [f]))('%s: never loads at init the credential providers Lambda does not use (SSO, INI files, web identity, STS)', (name) => {
    const rare = splits
      .get(name)!
      .inputsAtInit.filter((input) => /@aws-sdk\/(credential-provider-(sso|ini|web-identity|process|login)|nested-clients)\//.test(input));
    expect(rare).toEqual([]);
  });
});

describe('the chunks loaded on first use', () => {
  it.each(FUNCTIONS.map((f) => [f]))('%s: each loads after the entry, as Node loads it in Lambda', (name) => {
    const split = splits.get(name)!;
    const urls = [split.entry, ...split.loadedOnFirstUse].map((file) => pathToFileURL(file).href);
    const probe = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `for (const url of ${JSON.stringify(urls)}) await import(url); process.stdout.write(String(${urls.length}));`],
      { env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1' }, encoding: 'utf8', timeout: 30_000 },
    );
    expect({ name, stderr: probe.status === 0 ? '' : probe.stderr, loaded: probe.stdout }).toEqual({ name, stderr: '', loaded: String(urls.length) });
  });
});

describe('the built responder, as an ES module', () => {
  it('answers the pre-traffic hook\'s self-test with every expected decision (its samples found beside it)', () => {
    // The self-test reads its samples from the bundle's own folder (__dirname, which the ES
    // module defines for itself): the hook's check of a new version depends on it.
    const script = [
      `const { handler } = await import(${JSON.stringify(pathToFileURL(functionBundle('responder')).href)});`,
      "process.stdout.write(JSON.stringify(await handler({ driftwarden: 'self-test' })));",
    ].join('\n');
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        DRIFTWARDEN_TABLE: 'driftwarden-idempotency',
        DRIFTWARDEN_STATE_TABLE: 'driftwarden-state',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ status: probe.status, stderr: probe.status === 0 ? '' : probe.stderr }).toEqual({ status: 0, stderr: '' });
    const { selfTest } = JSON.parse(probe.stdout) as { selfTest: SelfTestResult[] };
    expect(selfTest.length).toBe(Object.keys(expected).length);
    expect(compareSelfTest(selfTest, expected as Record<string, ExpectedSample>)).toEqual([]);
  });
});
