/**
 * Step `isolate-instance`: cut an instance off the network, keep it for forensics.
 *
 * Why two moves: security groups are stateful, and a connection that is already tracked
 * survives a change of groups. An allow-all group (0.0.0.0/0 and ::/0, all protocols, both
 * ways) makes the interface's flows untracked; the next call moves every interface into
 * the empty isolation group, which then cuts those untracked flows at once. The allow-all
 * window lasts one API round trip. Flows tracked elsewhere, by a NAT gateway or a Network
 * Load Balancer, survive even this, and the outcome says so for the alert.
 *
 * Before moving, the interfaces' current groups are written on the instance as
 * `driftwarden:original-groups` (release reads them back). The forensic hold turns on
 * termination protection (tagged `driftwarden:protection-set` only when driftwarden turned
 * it on, so that release and terminate lift only what driftwarden set) and makes an
 * instance-initiated shutdown stop rather than terminate the instance.
 *
 * Round trips (containment is the critical path): the plan carries what the context read
 * already knows (interfaces and their groups, the two attributes, driftwarden's tags), and the
 * region's driftwarden groups come prefetched with the reads (StepContext.isolationGroups), so
 * an instance is isolated in two round trips after the reads: (1) the allow-all move, sent
 * together with the record tag and the forensic hold; (2) the isolation move. A step without
 * that context (built by hand, or by an older plan) reads the instance first, as before. The
 * plan's view is at most one round trip old; an interface attached in that window is not moved.
 *
 * If the record tag cannot be written, the instance is still isolated (cutting it off matters
 * more than the release record): the outcome is `failed` with `isolated: true`, names the
 * original groups (kept in the outcome, hence in the alert and the audit record) and says
 * release must restore them by hand. Idempotent: the record is never overwritten by a retry,
 * and an instance whose every interface has only the isolation group is already isolated.
 */
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type DescribeInstanceAttributeCommandOutput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { IsolateInstanceStep, StepOutcome } from '../../core/decision';
import { hasErrorName } from '../aws-errors';
import { tagsToRecord } from '../context-reader';
import { TAG, decodeOriginalGroups, describeInstance, encodeOriginalGroups, type OriginalGroups } from '../instances';
import type { StepContext } from './context';
import { ensureIsolationGroup, ensureUntrackGroup, IAM_ACTIONS as GROUP_IAM_ACTIONS } from './isolation-group';
import { failedOutcome, guarded, outcome } from './outcome';

export const IAM_ACTIONS = [
  ...GROUP_IAM_ACTIONS,
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceAttribute',
  'ec2:ModifyNetworkInterfaceAttribute',
  'ec2:ModifyInstanceAttribute',
  'ec2:CreateTags',
] as const;

/** Said in every isolation outcome, because the alert must not promise more than a group change can do. */
export const SURVIVING_FLOWS_NOTE =
  'tracked connections were cut; flows tracked by a NAT gateway or a Network Load Balancer may survive a security-group change';

/** A move that did not reach every interface: which ones it did reach, and the first error. */
interface MoveFailure {
  moved: string[];
  cause: unknown;
}

/** Moves every interface into one group, all at once. Rejects with a `MoveFailure` if any move failed. */
async function moveAll(ec2: EC2Client, enis: string[], groupId: string): Promise<void> {
  const results = await Promise.allSettled(enis.map((eni) => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [groupId] }))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    const failure: MoveFailure = { moved: enis.filter((_, n) => results[n]!.status === 'fulfilled'), cause: failed.reason };
    throw failure;
  }
}

/** What the step needs to know about the instance before moving it. */
interface InstanceView {
  vpcId?: string;
  interfaces: { id: string; groups: string[] }[];
  tags: Record<string, string>;
  protectionOn: boolean;
  shutdownBehavior?: string;
}

/** The plan's view, when the plan carries the context read (no call). */
function viewFromStep(step: IsolateInstanceStep): InstanceView | undefined {
  if (step.terminationProtection === undefined) return undefined;
  return {
    ...(step.vpcId ? { vpcId: step.vpcId } : {}),
    interfaces: step.networkInterfaces.map((n) => ({ id: n.networkInterfaceId, groups: [...n.groups] })),
    tags: { ...(step.driftwardenTags ?? {}) },
    protectionOn: step.terminationProtection,
    ...(step.shutdownBehavior !== undefined ? { shutdownBehavior: step.shutdownBehavior } : {}),
  };
}

/** Reads the instance and its two attributes (all three together); undefined when it is gone. */
async function readView(ec2: EC2Client, step: IsolateInstanceStep): Promise<InstanceView | undefined> {
  const instanceId = step.resource;
  const [instance, protection, shutdown] = await Promise.all([
    describeInstance(ec2, instanceId),
    readAttribute(ec2, new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' })),
    readAttribute(ec2, new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' })),
  ]);
  if (!instance || instance.State?.Name === 'terminated') return undefined;
  if (!protection || !shutdown) throw new Error(`instance ${instanceId} is described but its attributes are not found`);
  const vpcId = instance.VpcId ?? step.vpcId;
  return {
    ...(vpcId ? { vpcId } : {}),
    interfaces: (instance.NetworkInterfaces ?? [])
      .filter((n) => n.NetworkInterfaceId)
      .map((n) => ({ id: n.NetworkInterfaceId!, groups: (n.Groups ?? []).map((g) => g.GroupId!).filter(Boolean) })),
    tags: tagsToRecord(instance.Tags),
    protectionOn: protection.DisableApiTermination?.Value === true,
    ...(shutdown.InstanceInitiatedShutdownBehavior?.Value ? { shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior.Value } : {}),
  };
}

/** An attribute of the instance; undefined when the instance no longer exists (DescribeInstances decides). */
async function readAttribute(ec2: EC2Client, command: DescribeInstanceAttributeCommand): Promise<DescribeInstanceAttributeCommandOutput | undefined> {
  try {
    return await ec2.send(command);
  } catch (err) {
    if (hasErrorName(err, 'InvalidInstanceID.NotFound')) return undefined;
    throw err;
  }
}

export function run(step: IsolateInstanceStep, ctx: StepContext): Promise<StepOutcome> {
  return guarded(step, async () => {
    const ec2 = ctx.clients.ec2;
    const instanceId = step.resource;
    // The groups' lookups start at once, in parallel with a fallback read of the instance.
    const vpcKnown = step.vpcId;
    const groupsFor = (vpcId: string) => Promise.all([ensureIsolationGroup(ec2, vpcId, ctx.isolationGroups), ensureUntrackGroup(ec2, vpcId, ctx.isolationGroups)]);
    const early = vpcKnown ? groupsFor(vpcKnown) : undefined;
    // Never leave a rejection unobserved if the step stops before awaiting it.
    early?.catch(() => undefined);

    const view = viewFromStep(step) ?? (await readView(ec2, step));
    if (!view) return outcome(step, 'skipped', `instance ${instanceId} no longer exists: nothing to isolate`);
    const vpcId = view.vpcId;
    if (!vpcId) return { ...outcome(step, 'failed', `instance ${instanceId} is in no VPC: cannot isolate it with security groups`), errorName: 'NoVpc' };
    const interfaces = view.interfaces;
    if (interfaces.length === 0) return { ...outcome(step, 'failed', `instance ${instanceId} has no network interface to isolate`), errorName: 'NoNetworkInterface' };
    const tags = view.tags;
    const { protectionOn, shutdownBehavior } = view;

    const [isolation, untrack] = await (early && vpcId === vpcKnown ? early : groupsFor(vpcId));

    const produced: Record<string, unknown> = {
      isolationGroupId: isolation.groupId,
      untrackGroupId: untrack.groupId,
      networkInterfaces: interfaces.map((i) => i.id),
      ...(isolation.created ? { isolationGroupCreated: true } : {}),
      ...(isolation.repaired.length > 0 ? { isolationGroupRepaired: isolation.repaired } : {}),
    };
    const repairedNote = isolation.repaired.length > 0 ? `; isolation group ${isolation.groupId} had rules (${isolation.repaired.join(', ')}) and was emptied` : '';

    const alreadyIsolated = interfaces.every((i) => i.groups.length === 1 && i.groups[0] === isolation.groupId);
    const holdNeeded = step.forensicHold && (!protectionOn || shutdownBehavior !== 'stop');
    if (alreadyIsolated && !holdNeeded) {
      produced.isolated = true;
      return outcome(step, 'already-done', `instance ${instanceId} is already isolated in ${isolation.groupId}${repairedNote}`, produced);
    }

    const record: { Key: string; Value: string }[] = [];
    const recorded = decodeOriginalGroups(tags);
    if (!recorded && !alreadyIsolated) {
      const original: OriginalGroups = Object.fromEntries(interfaces.map((i) => [i.id, i.groups]));
      // Fall back to the plan's view for an interface that sits in driftwarden's own groups.
      for (const planned of step.networkInterfaces) {
        const now = original[planned.networkInterfaceId];
        if (now && now.every((g) => g === isolation.groupId || g === untrack.groupId)) original[planned.networkInterfaceId] = planned.groups;
      }
      record.push(...encodeOriginalGroups(original));
      produced.originalGroups = original;
    }
    if (step.forensicHold) {
      if (!protectionOn && tags[TAG.protectionSet] === undefined) record.push({ Key: TAG.protectionSet, Value: 'true' });
      if (shutdownBehavior && shutdownBehavior !== 'stop' && tags[TAG.originalShutdownBehavior] === undefined) {
        record.push({ Key: TAG.originalShutdownBehavior, Value: shutdownBehavior });
      }
    }

    // Round trip 1 of the moves: the record, the allow-all move and the forensic hold go out
    // together, the record first. None of them waits for another; each answer is judged below.
    const recordWrite = record.length > 0 ? settle(ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: record }))) : undefined;
    const enis = interfaces.map((i) => i.id);
    const firstMove = alreadyIsolated ? undefined : settleMove(moveAll(ec2, enis, untrack.groupId));
    const hold = step.forensicHold ? settle(forensicHold(ec2, instanceId, protectionOn, shutdownBehavior)) : undefined;

    const details: string[] = [];
    if (firstMove) {
      const moved = await firstMove;
      const secondMove = moved.ok ? await settleMove(moveAll(ec2, enis, isolation.groupId)) : undefined;
      if (!moved.ok || !secondMove!.ok) {
        // Never leave an interface in the allow-all group: put back every one the first move reached.
        const inAllowAll = moved.ok ? interfaces : interfaces.filter((i) => moved.error.moved.includes(i.id));
        const restoreTo = recorded ?? (produced.originalGroups as OriginalGroups | undefined) ?? {};
        const restored = await Promise.allSettled(
          inAllowAll.map((i) => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: i.id, Groups: restoreTo[i.id] ?? i.groups }))),
        );
        await Promise.all([recordWrite, hold]);
        const stuck = inAllowAll.filter((_, n) => restored[n]!.status === 'rejected').map((i) => i.id);
        const after =
          stuck.length > 0
            ? `interfaces ${stuck.join(', ')} are still in the allow-all group ${untrack.groupId}: isolate them by hand NOW`
            : inAllowAll.length > 0
              ? 'the original groups were put back'
              : 'no interface was moved';
        const into = moved.ok ? `isolation group ${isolation.groupId}` : `allow-all group ${untrack.groupId} on its way to isolation`;
        const cause = !moved.ok ? moved.error.cause : secondMove && !secondMove.ok ? secondMove.error.cause : undefined;
        return failedOutcome(step, cause, `could not move ${instanceId} into ${into}; ${after}`, produced);
      }
      produced.isolated = true;
      details.push(`isolated ${instanceId}: ${enis.length} interface(s) ${enis.join(', ')} moved through ${untrack.groupId} into ${isolation.groupId}; ${SURVIVING_FLOWS_NOTE}`);
    } else {
      produced.isolated = true;
      details.push(`instance ${instanceId} is already isolated in ${isolation.groupId}`);
    }

    const written = recordWrite ? await recordWrite : undefined;
    const held = hold ? await hold : undefined;
    if (written && !written.ok) {
      // Isolation matters more than the record: the instance is cut off, but release cannot read
      // its original groups (nor that driftwarden set the protection). The outcome keeps them.
      const original = produced.originalGroups ? ` Original groups: ${JSON.stringify(produced.originalGroups)}.` : '';
      produced.recordWritten = false;
      return failedOutcome(
        step,
        written.error,
        `${details.join('; ')}; but the record of the original groups and the forensic hold was not written on the instance, so release must restore them by hand.${original}`,
        produced,
      );
    }
    if (held) {
      if (!held.ok) {
        // The instance is isolated; only the hold is missing. Report it as a failure so the follow-up alert says so.
        return failedOutcome(step, held.error, `${details.join('; ')}; but the forensic hold failed`, produced);
      }
      details.push(protectionOn ? 'termination protection was already on' : 'termination protection on');
    }
    return outcome(step, 'done', details.join('; ') + repairedNote, produced);
  });
}

/** Termination protection on and instance-initiated shutdown `stop`, each only when not already so. */
async function forensicHold(ec2: EC2Client, instanceId: string, protectionOn: boolean, shutdownBehavior: string | undefined): Promise<void> {
  await Promise.all([
    protectionOn ? undefined : ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: true } })),
    shutdownBehavior === 'stop' ? undefined : ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceInitiatedShutdownBehavior: { Value: 'stop' } })),
  ]);
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
/** Never lets a rejection go unobserved; accepts a plain value too (some test doubles answer synchronously). */
function settle<T>(promise: Promise<T> | T): Promise<Settled<Awaited<T>>> {
  return Promise.resolve(promise).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function settleMove(promise: Promise<void>): Promise<{ ok: true } | { ok: false; error: MoveFailure }> {
  return promise.then(
    () => ({ ok: true as const }),
    (error: MoveFailure) => ({ ok: false as const, error }),
  );
}
