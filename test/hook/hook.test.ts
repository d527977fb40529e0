/**
 * The pre-traffic gate: the judgement (compareSelfTest), the self-test it runs (runSelfTest over
 * events/, which must reproduce events/expected.json: the deployment gate's check, run in CI),
 * `gate()` against a mocked Lambda, and the handler's report to CodeDeploy.
 */
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareSelfTest, type ExpectedSample } from '../../functions/hook/compare';
import { gate, handler } from '../../functions/hook/index';
import { runSelfTest, type SelfTestResult } from '../../functions/responder/self-test';

const lambda = mockClient(LambdaClient);
const codeDeploy = mockClient(CodeDeployClient);
afterEach(() => {
  lambda.reset();
  codeDeploy.reset();
});
afterAll(() => {
  lambda.restore();
  codeDeploy.restore();
});
const EVENTS = join(__dirname, '..', '..', 'events');
const expected = JSON.parse(readFileSync(join(EVENTS, 'expected.json'), 'utf8')) as Record<string, ExpectedSample>;
const VERSION_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:driftwarden-responder:42';

/** Results exactly as expected.json describes them. */
function matching(): SelfTestResult[] {
  return Object.entries(expected).map(([sample, want]) =>
    want.rejected ? { sample, rules: [], rejected: want.code ?? 'not-json' } : { sample, rules: [...want.rules].sort(), ...(want.decision ? { decision: want.decision } : {}) },
  );
}

describe('compareSelfTest', () => {
  test('finds nothing wrong when every decision matches', () => {
    expect(compareSelfTest(matching(), expected)).toEqual([]);
  });

  test('names a changed decision', () => {
    const results = matching().map((r) => (r.sample === 'positive/admin-port-ssh-open-to-world.json' ? { ...r, decision: 'observe' } : r));
    expect(compareSelfTest(results, expected)).toEqual(['positive/admin-port-ssh-open-to-world.json: decision observe, expected contain']);
  });

  test('names a sample that was not replayed', () => {
    const results = matching().filter((r) => r.sample !== 'negative/unrelated-sts-assume-role.json');
    expect(compareSelfTest(results, expected)).toEqual(['negative/unrelated-sts-assume-role.json: expected but not replayed']);
  });

  test('names an extra sample that expected.json does not know', () => {
    const results = [...matching(), { sample: 'positive/new-rule-sample.json', rules: ['x'], decision: 'contain' }];
    expect(compareSelfTest(results, expected)).toEqual(['positive/new-rule-sample.json: not in expected.json']);
  });

  test('names a wrong rejection code, and a rejection where a decision was expected', () => {
    const results = matching().map((r) =>
      r.sample === 'invalid/not-json.json' ? { ...r, rejected: 'not-an-object' } : r.sample === 'positive/admin-port-ssh-open-to-world.json' ? { sample: r.sample, rules: [], rejected: 'missing-field' } : r,
    );
    expect(compareSelfTest(results, expected).sort()).toEqual([
      'invalid/not-json.json: expected rejection not-json, got not-an-object',
      'positive/admin-port-ssh-open-to-world.json: rejected (missing-field), expected decision contain',
    ]);
  });

  test('names a decision where a rejection was expected', () => {
    const results = matching().map((r) => (r.sample === 'invalid/missing-detail.json' ? { sample: r.sample, rules: [], decision: 'no-finding' } : r));
    expect(compareSelfTest(results, expected)).toEqual(['invalid/missing-detail.json: expected a rejection (missing-field), got decision no-finding']);
  });
});

describe('runSelfTest over events/ (the deployment gate, run in CI)', () => {
  test('reproduces every decision, rule and rejection in events/expected.json', async () => {
    const results = await runSelfTest(EVENTS);
    expect(compareSelfTest(results, expected)).toEqual([]);
    expect(results).toHaveLength(Object.keys(expected).length);
    for (const r of results) {
      const want = expected[r.sample]!;
      expect({ sample: r.sample, rules: r.rules }).toEqual({ sample: r.sample, rules: [...want.rules].sort() });
    }
  });
});

describe('gate()', () => {
  const payload = (body: unknown) => new TextEncoder().encode(JSON.stringify(body)) as never;

  test('invokes the new version with the self-test request and passes when the decisions match', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ selfTest: matching() }) });
    await expect(gate(VERSION_ARN, new LambdaClient({ region: 'eu-west-1' }))).resolves.toEqual([]);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(input.FunctionName).toBe(VERSION_ARN);
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'))).toEqual({ driftwarden: 'self-test' });
  });

  test('fails when the function errored (FunctionError), quoting its payload', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload({ errorMessage: 'boom' }) });
    const problems = await gate(VERSION_ARN, new LambdaClient({ region: 'eu-west-1' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^self-test invocation failed: Unhandled: .*boom/);
  });

  test('fails when the function returned no results, or a changed decision', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ status: 'processed' }) });
    await expect(gate(VERSION_ARN, new LambdaClient({ region: 'eu-west-1' }))).resolves.toEqual(['self-test returned no results']);
    const changed = matching().map((r) => (r.sample === 'positive/unapproved-ami-run-instances-from-launch-template.json' ? { ...r, decision: 'replace' } : r));
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ selfTest: changed }) });
    await expect(gate(VERSION_ARN, new LambdaClient({ region: 'eu-west-1' }))).resolves.toEqual([
      'positive/unapproved-ami-run-instances-from-launch-template.json: decision replace, expected contain',
    ]);
  });
});

describe('the hook handler reports to CodeDeploy', () => {
  const hookEvent = { DeploymentId: 'd-ABCDEF123', LifecycleEventHookExecutionId: 'eyJlbmNyeXB0ZWREYXRh' };
  beforeEach(() => {
    process.env.DRIFTWARDEN_RESPONDER_VERSION_ARN = VERSION_ARN;
    codeDeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: hookEvent.LifecycleEventHookExecutionId });
  });
  afterEach(() => {
    delete process.env.DRIFTWARDEN_RESPONDER_VERSION_ARN;
  });

  test('Succeeded when every decision matches', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ selfTest: matching() })) as never });
    await expect(handler(hookEvent)).resolves.toEqual({ status: 'Succeeded', problems: [] });
    expect(codeDeploy).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, {
      deploymentId: hookEvent.DeploymentId,
      lifecycleEventHookExecutionId: hookEvent.LifecycleEventHookExecutionId,
      status: 'Succeeded',
    });
  });

  test('Failed when the invocation fails, throws, or the version is not configured', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const thrown = await handler(hookEvent);
    expect(thrown.status).toBe('Failed');
    expect(thrown.problems[0]).toMatch(/self-test could not run: .*Rate exceeded/);
    expect(codeDeploy).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { deploymentId: hookEvent.DeploymentId, status: 'Failed' });

    codeDeploy.resetHistory();
    delete process.env.DRIFTWARDEN_RESPONDER_VERSION_ARN;
    await expect(handler(hookEvent)).resolves.toEqual({ status: 'Failed', problems: ['DRIFTWARDEN_RESPONDER_VERSION_ARN is not set'] });
    expect(codeDeploy).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  test('Failed when the new version returns a payload that is not JSON', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('<html>') as never });
    const result = await handler(hookEvent);
    expect(result.status).toBe('Failed');
    expect(codeDeploy).toHaveReceivedCommandWith(PutLifecycleEventHookExecutionStatusCommand, { status: 'Failed' });
  });
});
