/**
 * The hooks every integration file needs, registered by one call inside `describeWithMoto`:
 * moto_server started (and the bundles built) once per file, reset before each test, the base
 * world created fresh (network, tables, alert channel, kill switch "off"), everything stopped
 * afterwards. The built responder, sweeper and watcher are invoked with the same environment
 * (the template's), each in a fresh process.
 */
import type { AlertDocument } from '../../functions/core/report/alert';
import type { SweepResult } from '../../functions/sweeper/sweep';
import type { WatchResult } from '../../functions/watcher/watch';
import { writeTestPolicy, type TestPolicyOptions } from './events';
import { MotoServer } from './moto';
import { ensureResponderBuilt, invokeBundle, responderEnv, RESPONDER_BUNDLE, SWEEPER_BUNDLE, WATCHER_BUNDLE, type Invocation } from './responder';
import {
  createAlertChannel,
  createNetwork,
  createStateTables,
  destroyClients,
  drainAlerts,
  motoClients,
  setKillSwitch,
  type AlertChannel,
  type MotoClients,
  type Network,
} from './world';

export interface Harness {
  readonly moto: MotoServer;
  readonly aws: MotoClients;
  readonly network: Network;
  readonly alerts: AlertChannel;
  /** Runs the built responder once, in a fresh process (a fresh Lambda container). */
  invoke(event: unknown, options?: InvokeOptions): Promise<Invocation>;
  /** Runs the built sweeper once (a scheduled run), in a fresh process. */
  invokeSweeper(options?: InvokeOptions): Promise<Invocation<SweepResult>>;
  /** Runs the built watcher once on a stack status change, in a fresh process. */
  invokeWatcher(event: unknown, options?: InvokeOptions): Promise<Invocation<WatchResult>>;
  /** A policy file like the file's default one, with these changes (pass its path to invoke*). */
  writePolicy(options: TestPolicyOptions): string;
  /** Every alert published so far (removed from the queue), subject and machine document. */
  receivedAlerts(): Promise<{ subject: string; document: AlertDocument }[]>;
}

export interface InvokeOptions {
  /** The policy file (writePolicy); default the file's policy (writeTestPolicy()). */
  policyPath?: string;
  /** Extra environment variables, over the template's (DRIFTWARDEN_SWEEP_PAGE_SIZE, …). */
  env?: Record<string, string>;
}

/** Each test runs the handler in a fresh process against a real server: on a loaded 2-core machine, seconds each. */
export const INTEGRATION_TEST_TIMEOUT_MS = 120_000;

export function useMotoHarness(): Harness {
  jest.setTimeout(INTEGRATION_TEST_TIMEOUT_MS);
  let moto: MotoServer | undefined;
  let aws: MotoClients | undefined;
  let network: Network | undefined;
  let alerts: AlertChannel | undefined;
  let policyPath = '';

  beforeAll(async () => {
    [moto] = await Promise.all([MotoServer.start(), ensureResponderBuilt()]);
    aws = motoClients(moto.endpoint);
    policyPath = writeTestPolicy();
  }, 180_000);

  afterAll(async () => {
    if (aws) destroyClients(aws);
    await moto?.stop();
  });

  beforeEach(async () => {
    await moto!.reset();
    network = await createNetwork(aws!.ec2);
    [alerts] = await Promise.all([createAlertChannel(aws!.sns, aws!.sqs), createStateTables(aws!.dynamodb), setKillSwitch(aws!.ssm, 'off')]);
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`integration harness: ${what} is not ready (did beforeAll fail?)`);
    return value;
  };

  async function run<R>(name: string, bundle: string, event: unknown, options: InvokeOptions = {}): Promise<Invocation<R>> {
    const env = {
      ...responderEnv({
        endpoint: ready(moto, 'moto_server').endpoint,
        topicArn: ready(alerts, 'the alert channel').topicArn,
        policyPath: options.policyPath ?? policyPath,
        functionName: `driftwarden-${name}`,
      }),
      ...options.env,
    };
    const invocation = await invokeBundle<R>(bundle, event, env);
    // The function's own logs explain a failure better than any assertion can.
    if (invocation.error) console.error(`${name} threw ${invocation.error.name}: ${invocation.error.message}\n${invocation.logs.slice(-6000)}`);
    return invocation;
  }

  return {
    get moto() {
      return ready(moto, 'moto_server');
    },
    get aws() {
      return ready(aws, 'the moto clients');
    },
    get network() {
      return ready(network, 'the network');
    },
    get alerts() {
      return ready(alerts, 'the alert channel');
    },
    invoke(event: unknown, options?: InvokeOptions): Promise<Invocation> {
      return run<NonNullable<Invocation['result']>>('responder', RESPONDER_BUNDLE, event, options);
    },
    invokeSweeper(options?: InvokeOptions): Promise<Invocation<SweepResult>> {
      // What EventBridge Scheduler hands the sweeper (the handler ignores it).
      const scheduled = { version: '0', id: 'integration-sweep', 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: {} };
      return run<SweepResult>('sweeper', SWEEPER_BUNDLE, scheduled, options);
    },
    invokeWatcher(event: unknown, options?: InvokeOptions): Promise<Invocation<WatchResult>> {
      return run<WatchResult>('watcher', WATCHER_BUNDLE, event, options);
    },
    writePolicy(options: TestPolicyOptions): string {
      return writeTestPolicy(options);
    },
    async receivedAlerts() {
      const received = await drainAlerts(ready(aws, 'the moto clients').sqs, ready(alerts, 'the alert channel').queueUrl);
      return received.map(({ subject, message }) => ({ subject, document: JSON.parse(message) as AlertDocument }));
    },
  };
}
