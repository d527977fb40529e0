/**
 * The hooks every integration file needs, registered by one call inside `describeWithMoto`:
 * moto_server started (and the bundle built) once per file, reset before each test, the base
 * world created fresh (network, tables, alert channel, kill switch "off"), everything stopped
 * afterwards.
 */
import type { AlertDocument } from '../../functions/core/report/alert';
import { writeTestPolicy } from './events';
import { MotoServer } from './moto';
import { ensureResponderBuilt, invokeResponder, responderEnv, type Invocation } from './responder';
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
  /** Runs the built handler once, in a fresh process (a fresh Lambda container). */
  invoke(event: unknown): Promise<Invocation>;
  /** Every alert published so far (removed from the queue), subject and machine document. */
  receivedAlerts(): Promise<{ subject: string; document: AlertDocument }[]>;
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
    async invoke(event: unknown): Promise<Invocation> {
      const env = responderEnv({ endpoint: ready(moto, 'moto_server').endpoint, topicArn: ready(alerts, 'the alert channel').topicArn, policyPath });
      const invocation = await invokeResponder(event, env);
      // The responder's own logs explain a failure better than any assertion can.
      if (invocation.error) console.error(`responder threw ${invocation.error.name}: ${invocation.error.message}\n${invocation.logs.slice(-6000)}`);
      return invocation;
    },
    async receivedAlerts() {
      const received = await drainAlerts(ready(aws, 'the moto clients').sqs, ready(alerts, 'the alert channel').queueUrl);
      return received.map(({ subject, message }) => ({ subject, document: JSON.parse(message) as AlertDocument }));
    },
  };
}
