/**
 * CodeDeploy pre-traffic hook (deployed as CodeDeployHook_driftwarden-pre-traffic, the only
 * name CodeDeploy's default role may invoke). It invokes the NEW responder version with the
 * self-test request: the bundled samples replayed in dry-run against the bundled snapshot and
 * policy (no AWS call, nothing executed). If any decision differs from events/expected.json the
 * deployment fails and the alias keeps pointing at the old version.
 *
 * Why this and not a canary: driftwarden's traffic is sparse (minutes can pass without one
 * relevant event), so a 10% canary would mostly watch silence. The replay exercises every rule
 * and every decision on every deployment.
 */
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import expected from '../../events/expected.json';
import type { SelfTestResult } from '../responder/self-test';
import { compareSelfTest, type ExpectedSample } from './compare';

export const IAM_ACTIONS = ['lambda:InvokeFunction', 'codedeploy:PutLifecycleEventHookExecutionStatus'] as const;

const logger = new Logger({ serviceName: 'driftwarden' });
const lambda = new LambdaClient({});
const codeDeploy = new CodeDeployClient({});

interface HookEvent {
  DeploymentId?: string;
  LifecycleEventHookExecutionId?: string;
}

export async function gate(functionArn: string, client: Pick<LambdaClient, 'send'> = lambda): Promise<string[]> {
  const res = await client.send(new InvokeCommand({ FunctionName: functionArn, Payload: Buffer.from(JSON.stringify({ driftwarden: 'self-test' })) }));
  if (res.FunctionError) return [`self-test invocation failed: ${res.FunctionError}: ${Buffer.from(res.Payload ?? []).toString('utf8').slice(0, 500)}`];
  const body = JSON.parse(Buffer.from(res.Payload ?? []).toString('utf8')) as { selfTest?: SelfTestResult[] };
  if (!Array.isArray(body.selfTest)) return ['self-test returned no results'];
  return compareSelfTest(body.selfTest, expected as Record<string, ExpectedSample>);
}

export const handler = async (event: HookEvent): Promise<{ status: 'Succeeded' | 'Failed'; problems: string[] }> => {
  const target = process.env.DRIFTWARDEN_RESPONDER_VERSION_ARN;
  let problems: string[];
  try {
    problems = target ? await gate(target) : ['DRIFTWARDEN_RESPONDER_VERSION_ARN is not set'];
  } catch (error) {
    problems = [`self-test could not run: ${String(error)}`];
  }
  const status = problems.length === 0 ? 'Succeeded' : 'Failed';
  if (status === 'Failed') logger.error('pre-traffic self-test failed: the deployment stops', { problems });
  else logger.info('pre-traffic self-test passed');
  if (event.DeploymentId && event.LifecycleEventHookExecutionId) {
    await codeDeploy.send(
      new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: event.DeploymentId, lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId, status }),
    );
  }
  return { status, problems };
};
