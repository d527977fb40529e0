/**
 * The BUILT functions (dist/functions/{responder,sweeper,watcher}/index.mjs), as Lambda runs
 * them: built once when dist/ is older than the sources, then invoked in a fresh Node process
 * per invocation (a fresh container: each handler caches its clients, policy and state
 * utilities per container), with the environment the template gives them, pointed at
 * moto_server.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { bundleIsStale, ensureBuilt, functionBundle, ROOT } from '../helpers/build';
import { MOTO_ACCOUNT_ID, MOTO_REGION } from './moto';
import { KILL_SWITCH_PARAMETER, TABLES } from './world';

export { ROOT };
export const RESPONDER_BUNDLE = functionBundle('responder');
export const SWEEPER_BUNDLE = functionBundle('sweeper');
export const WATCHER_BUNDLE = functionBundle('watcher');
/** The integration suites build through the one locked build of test/helpers/build.ts. */
export { bundleIsStale, ensureBuilt as ensureResponderBuilt };

export interface ResponderEnvironment {
  endpoint: string;
  topicArn: string;
  policyPath: string;
  /** The function's name (AWS_LAMBDA_FUNCTION_NAME). Default driftwarden-responder. */
  functionName?: string;
}

/**
 * The environment the template sets on the function, pointed at moto_server. The responder,
 * the sweeper and the watcher share it (the sweeper runs the responder's pipeline; the
 * watcher reads the same policy and alert topic).
 */
export function responderEnv({ endpoint, topicArn, policyPath, functionName = 'driftwarden-responder' }: ResponderEnvironment): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('DRIFTWARDEN_') && !key.startsWith('POWERTOOLS_')),
  );
  return {
    ...inherited,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    DRIFTWARDEN_TOPIC_ARN: topicArn,
    DRIFTWARDEN_TABLE: TABLES.idempotency,
    DRIFTWARDEN_STATE_TABLE: TABLES.state,
    DRIFTWARDEN_POLICY: policyPath,
    DRIFTWARDEN_GLOBAL_MODE: 'enforce',
    DRIFTWARDEN_KILL_SWITCH_PARAMETER: KILL_SWITCH_PARAMETER,
    DRIFTWARDEN_HOME_ACCOUNT_ID: MOTO_ACCOUNT_ID,
    // A moto error should fail the test quickly rather than be retried with backoff.
    DRIFTWARDEN_MAX_ATTEMPTS: '2',
    POWERTOOLS_SERVICE_NAME: 'driftwarden',
    POWERTOOLS_METRICS_NAMESPACE: 'driftwarden',
    NODE_NO_WARNINGS: '1',
  };
}

/** What the responder's handler returns, as far as the tests read it. */
export type ResponderResult = Record<string, unknown> & { status?: string; outcomes?: { action: string; resource: string; status: string; detail: string }[] };

export interface Invocation<R = ResponderResult> {
  /** What the handler returned, or undefined when it threw. */
  result?: R;
  /** What the handler threw. */
  error?: { name: string; message: string };
  /** The process's output (the Powertools logs and metrics), for failure messages. */
  logs: string;
}

/**
 * Runs the handler once in a fresh Node process: `handler(event, context)` of the built bundle,
 * with a Lambda-like context. The result travels back on file descriptor 3, so that the logs
 * on stdout cannot be mistaken for it.
 */
const INVOKER = `
const { writeSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
// The bundle is an ES module (as Lambda loads index.mjs): import(), not require().
const loaded = import(pathToFileURL(process.env.INTEGRATION_BUNDLE).href);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const deadline = Date.now() + 60000;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
  const context = {
    functionName: name, functionVersion: '$LATEST', awsRequestId: process.env.INTEGRATION_REQUEST_ID,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + name, memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/' + name, logStreamName: 'integration', callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
  let answer;
  try {
    const { handler } = await loaded;
    answer = { result: await handler(JSON.parse(input), context) };
  } catch (error) {
    answer = { error: { name: (error && error.name) || 'Error', message: String((error && error.message) || error) } };
  }
  writeSync(3, JSON.stringify(answer));
  process.exit(0);
});
`;

export async function invokeResponder(event: unknown, env: NodeJS.ProcessEnv): Promise<Invocation> {
  return invokeBundle(RESPONDER_BUNDLE, event, env);
}

/** Runs the handler of one built bundle once, in a fresh Node process (see INVOKER). */
export async function invokeBundle<R = ResponderResult>(bundle: string, event: unknown, env: NodeJS.ProcessEnv): Promise<Invocation<R>> {
  const child = spawn(process.execPath, ['-e', INVOKER], {
    cwd: ROOT,
    env: { ...env, INTEGRATION_BUNDLE: bundle, INTEGRATION_REQUEST_ID: randomUUID() },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  let logs = '';
  let answer = '';
  child.stdout!.on('data', (c: Buffer) => (logs += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (logs += c.toString('utf8')));
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => (answer += c.toString('utf8')));
  const exited = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
  child.stdin!.end(JSON.stringify(event));
  const code = await exited;
  if (!answer) throw new Error(`the process of ${bundle} exited with ${String(code)} and no answer:\n${logs.slice(-4000)}`);
  return { ...(JSON.parse(answer) as Omit<Invocation<R>, 'logs'>), logs };
}
