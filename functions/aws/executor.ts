/**
 * The executor: carries out a plan on AWS, the only place that mutates anything.
 *
 * Order (containment is the critical path):
 *   1. revoke-rule, revert-tags, restore-logging and isolate-instance, all in parallel:
 *      containment (revert-tags and restore-logging undo tampering with driftwarden itself).
 *   2. snapshot-volumes, tag, detach and notify, concurrently: the alert goes out while the
 *      evidence is taken (it lists those steps as deferred, in progress).
 *   3. replace.
 *   4. terminate.
 * A failing step does not stop the other safe steps, but an instance whose isolation
 * failed is never detached from its group, replaced or terminated (it would destroy the
 * evidence or launch a replacement while the tainted one still runs in the open).
 * If a step whose outcome the alert did not know failed, ONE follow-up alert (kind
 * `incomplete`) says what was not done.
 *
 * Dry run (`mutate: false`, or `plan.dryRun`): no mutating call is sent; every mutating
 * step is `skipped` "dry run". Publishing the alert is decided separately by `notify`: a
 * replay prints and does not publish, the responder in observe mode publishes.
 */
import type { Plan, Step, StepAction, StepOutcome } from '../core/decision';
import type { ChangeEvent } from '../core/model';
import type { Policy } from '../core/policy/schema';
import { awsErrorName, describeAwsError } from './aws-errors';
import type { AwsClients } from './clients';
import { realSleep, type AlertOptions, type StepContext } from './steps/context';
import { run as isolateInstance } from './steps/isolate-instance';
import type { DriftwardenGroupsPrefetch } from './steps/isolation-group';
import { publishAlert, run as notify } from './steps/notify';
import { outcome } from './steps/outcome';
import { run as replace } from './steps/replace';
import { run as revertTags } from './steps/revert-tags';
import { run as revokeRule } from './steps/revoke-rule';
import { run as snapshotVolumes } from './steps/snapshot-volumes';
import { run as tag } from './steps/tag';
import { run as terminate } from './steps/terminate';

export interface ExecuteDeps {
  clients: AwsClients;
  event: ChangeEvent;
  policy: Policy;
  /** Whether mutating steps may send their calls. False: every mutating step is skipped "dry run". */
  mutate: boolean;
  /** Whether the alert (and the follow-up) is published to SNS. Default: same as `mutate`. */
  notify?: boolean;
  /** The SNS topic. Default: env DRIFTWARDEN_TOPIC_ARN. */
  topicArn?: string;
  /** The clock. Default: the real one. */
  now?: () => Date;
  /** Waits (eventual consistency). Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Alert inputs computed by the shell while containment runs (storm gate, drift details, trust). */
  alert?: AlertOptions;
  /** The region's driftwarden groups, prefetched with the context reads (handed to the isolate step). */
  isolationGroups?: DriftwardenGroupsPrefetch;
}

export interface ExecutionResult {
  /** One outcome per step of the plan, in plan order, then the follow-up alert's outcome if one was sent. */
  outcomes: StepOutcome[];
  /** When containment (revoke / isolate) completed, ISO-8601; absent when nothing was contained. */
  containedAt?: string;
  /** Milliseconds from the event's time to containment; absent when nothing was contained. */
  containmentMs?: number;
}

type Runner = (step: never, ctx: StepContext) => Promise<StepOutcome>;

/**
 * A step whose module (and the SDK clients it uses) is loaded when the step first runs, not at
 * init: detaching runs after isolation, and restoring logging only answers tampering, so
 * neither is worth loading on every cold start (see functions/aws/later-clients.ts).
 */
function loadedOnFirstRun(load: () => Promise<{ run: unknown }>): Runner {
  let loading: Promise<Runner> | undefined;
  return async (step, ctx) => {
    loading ??= load().then((module) => module.run as Runner);
    return (await loading)(step, ctx);
  };
}

const detach = loadedOnFirstRun(() => import('./steps/detach'));
const restoreLogging = loadedOnFirstRun(() => import('./steps/restore-logging'));

const RUNNERS: Record<StepAction, Runner> = {
  'revoke-rule': revokeRule as Runner,
  'revert-tags': revertTags as Runner,
  'restore-logging': restoreLogging as Runner,
  'isolate-instance': isolateInstance as Runner,
  'snapshot-volumes': snapshotVolumes as Runner,
  tag: tag as Runner,
  detach: detach as Runner,
  notify: notify as Runner,
  replace: replace as Runner,
  terminate: terminate as Runner,
};

const CONTAINMENT: StepAction[] = ['revoke-rule', 'revert-tags', 'restore-logging', 'isolate-instance'];
const EVIDENCE: StepAction[] = ['snapshot-volumes', 'tag', 'detach', 'notify'];
/** Steps that must not run for an instance whose isolation failed. */
const NEEDS_ISOLATION: StepAction[] = ['detach', 'replace', 'terminate'];

const OK = new Set(['done', 'already-done']);

export async function executePlan(plan: Plan, deps: ExecuteDeps): Promise<ExecutionResult> {
  const now = deps.now ?? (() => new Date());
  const mutate = deps.mutate && !plan.dryRun;
  const publish = deps.notify ?? deps.mutate;
  const topicArn = deps.topicArn ?? process.env.DRIFTWARDEN_TOPIC_ARN;
  const results = new Map<Step, StepOutcome>();

  const context = (outcomes: StepOutcome[]): StepContext => ({
    clients: deps.clients,
    event: deps.event,
    plan,
    policy: deps.policy,
    now,
    sleep: deps.sleep ?? realSleep,
    outcomes,
    ...(topicArn ? { topicArn } : {}),
    ...(deps.alert ? { alert: deps.alert } : {}),
    ...(deps.isolationGroups ? { isolationGroups: deps.isolationGroups } : {}),
  });
  const known = (): StepOutcome[] => plan.steps.filter((s) => results.has(s)).map((s) => results.get(s)!);

  const isolationFailed = (resource: string): StepOutcome | undefined =>
    known().find((o) => o.action === 'isolate-instance' && o.resource === resource && o.status === 'failed' && o.produced?.isolated !== true);

  const runStep = async (step: Step, outcomes: StepOutcome[]): Promise<StepOutcome> => {
    if (step.action === 'notify') {
      if (!publish) return outcome(step, 'skipped', 'dry run: alert not published');
    } else if (!mutate) {
      return outcome(step, 'skipped', 'dry run: no call sent');
    }
    if (NEEDS_ISOLATION.includes(step.action)) {
      const failedIsolation = isolationFailed(step.resource);
      if (failedIsolation) return outcome(step, 'skipped', `not done: isolating ${step.resource} failed, so it is kept as it is (${failedIsolation.detail})`);
    }
    if (step.action === 'terminate') {
      const replacement = known().find((o) => o.action === 'replace' && o.resource === step.resource);
      if (replacement && !OK.has(replacement.status)) {
        return outcome(step, 'skipped', `not terminated: the replacement of ${step.resource} is ${replacement.status} (${replacement.detail})`);
      }
    }
    try {
      return await RUNNERS[step.action](step as never, context(outcomes));
    } catch (err) {
      // Steps never throw; this is the last guard, so that one step cannot stop the rest.
      return { ...outcome(step, 'failed', describeAwsError(err)), errorName: 'StepCrashed' };
    }
  };

  const phase = async (actions: StepAction[], outcomesFor: (step: Step) => StepOutcome[]): Promise<void> => {
    const steps = plan.steps.filter((s) => actions.includes(s.action));
    const done = await Promise.all(steps.map((s) => runStep(s, outcomesFor(s))));
    steps.forEach((s, i) => results.set(s, done[i]!));
  };

  // 1. Containment.
  await phase(CONTAINMENT, () => known());
  const containment = known().filter((o) => CONTAINMENT.includes(o.action));
  let containedAt: string | undefined;
  let containmentMs: number | undefined;
  if (containment.some((o) => OK.has(o.status) || o.produced?.isolated === true)) {
    const at = now();
    containedAt = at.toISOString();
    const eventTime = Date.parse(deps.event.time);
    if (Number.isFinite(eventTime)) containmentMs = Math.max(0, at.getTime() - eventTime);
  }

  // 2. Evidence and the alert, concurrently. The alert sees the steps still running as deferred.
  const knownAtAlert = new Set<Step>(results.keys());
  await phase(EVIDENCE, (step) =>
    step.action === 'notify'
      ? plan.steps
          .filter((s) => s !== step)
          .map((s) => results.get(s) ?? (mutate ? outcome(s, 'deferred', 'in progress') : outcome(s, 'skipped', 'dry run: no call sent')))
      : known(),
  );

  // 3. Replacement, then 4. termination.
  await phase(['replace'], () => known());
  await phase(['terminate'], () => known());

  const outcomes = plan.steps.map((s) => results.get(s)!);

  // One follow-up when something the alert did not know about failed.
  const notified = plan.steps.some((s) => s.action === 'notify' && results.get(s)?.status === 'done');
  const unreported = plan.steps.filter((s) => !knownAtAlert.has(s) && s.action !== 'notify' && results.get(s)?.status === 'failed');
  if (notified && publish && topicArn && unreported.length > 0) {
    const details = unreported.map((s) => {
      const o = results.get(s)!;
      return `${s.action} ${s.resource} not done: ${o.detail}`;
    });
    const followUp = { action: 'notify' as const, resource: topicArn };
    try {
      const messageId = await publishAlert({ kind: 'incomplete', event: deps.event, plan, outcomes, details }, { clients: deps.clients, topicArn });
      outcomes.push(outcome(followUp, 'done', `follow-up alert (incomplete) published: ${unreported.length} step(s) not done`, { messageId, kind: 'incomplete' }));
    } catch (err) {
      outcomes.push({ ...outcome(followUp, 'failed', `could not publish the follow-up alert: ${describeAwsError(err)}`), errorName: awsErrorName(err) });
    }
  }

  return { outcomes, ...(containedAt ? { containedAt } : {}), ...(containmentMs !== undefined ? { containmentMs } : {}) };
}
