/**
 * Small typed builders for the rule tests: ChangeEvents, actors, policies and context,
 * built directly (not through the normalizer), so each test shows exactly what it feeds in.
 */
import { emptyContext, found, type ImageContext, type InstanceContext, type Lookup, type ResourceContext } from '../../../functions/core/context';
import type { Actor, Change, ChangeEvent, ResourceRef, SgRule } from '../../../functions/core/model';
import { policySchema, type Policy, type PolicyInput } from '../../../functions/core/policy/schema';
import { evaluateTrust, type TrustVerdict } from '../../../functions/core/trust';
import type { RuleInput } from '../../../functions/core/rules/types';

export const ACCOUNT = '111122223333';
export const NOW = '2026-03-01T12:00:00Z';
export const PIPELINE_ROLE = `arn:aws:iam::${ACCOUNT}:role/pipeline-deploy`;
export const STACK_SERVICE_ROLE = `arn:aws:iam::${ACCOUNT}:role/cfn-service-role`;

export const actors = {
  alice: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, name: 'alice', accountId: ACCOUNT, sourceIp: '198.51.100.7' },
  pipeline: {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/pipeline-deploy/build-42`,
    issuerArn: PIPELINE_ROLE,
    name: 'pipeline-deploy/build-42',
    accountId: ACCOUNT,
  },
  /** CloudFormation acting with alice's own credentials: anyone can create a stack. */
  cloudFormationAsAlice: {
    type: 'IAMUser',
    arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
    name: 'alice',
    accountId: ACCOUNT,
    invokedBy: 'cloudformation.amazonaws.com',
  },
  cloudFormationAsServiceRole: {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/cfn-service-role/AWSCloudFormation`,
    issuerArn: STACK_SERVICE_ROLE,
    name: 'cfn-service-role/AWSCloudFormation',
    accountId: ACCOUNT,
    invokedBy: 'cloudformation.amazonaws.com',
  },
  driftwarden: {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/driftwarden-responder/session`,
    issuerArn: `arn:aws:iam::${ACCOUNT}:role/driftwarden-responder`,
    name: 'driftwarden-responder/session',
    accountId: ACCOUNT,
  },
  breakGlass: {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/break-glass-oncall/bob`,
    issuerArn: `arn:aws:iam::${ACCOUNT}:role/break-glass-oncall`,
    name: 'break-glass-oncall/bob',
    accountId: ACCOUNT,
  },
  configService: { type: 'Unknown', name: 'unknown (AWS Config)' },
} satisfies Record<string, Actor>;

let counter = 0;

/** A successful, write, CloudTrail-origin event by alice unless told otherwise. */
export function eventOf(change: Change, overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  counter += 1;
  return {
    id: `evt-${counter}`,
    origin: 'cloudtrail',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'AuthorizeSecurityGroupIngress',
    time: '2026-03-01T11:59:00Z',
    accountId: ACCOUNT,
    region: 'eu-west-1',
    actor: actors.alice,
    readOnly: false,
    resources: resourcesOf(change),
    change,
    raw: {},
    ...overrides,
  };
}

function resourcesOf(change: Change): ResourceRef[] {
  switch (change.kind) {
    case 'security-group':
      return [{ type: 'security-group', id: change.groupId }];
    case 'instance-launch':
    case 'instance-change':
    case 'shell-access':
      return change.instanceIds.map((id) => ({ type: 'instance', id }));
    case 'key-pair':
      return [{ type: 'key-pair', id: change.keyName }];
    case 'config-item':
      return [{ type: change.resourceType === 'AWS::EC2::SecurityGroup' ? 'security-group' : 'instance', id: change.resourceId }];
    default:
      return [];
  }
}

/** An ingress rule from `cidr` on tcp `port` (or a range). */
export function ingress(cidr: string, fromPort: number, toPort = fromPort, protocol = 'tcp'): SgRule {
  return cidr.includes(':')
    ? { direction: 'ingress', protocol, fromPort, toPort, cidrIpv6: cidr }
    : { direction: 'ingress', protocol, fromPort, toPort, cidrIpv4: cidr };
}

export const sgChange = (rules: SgRule[], operation: 'authorize' | 'revoke' | 'modify' | 'describe' = 'authorize', groupId = 'sg-0abc'): Change => ({
  kind: 'security-group',
  groupId,
  operation,
  rules,
});

export function policyOf(input: PolicyInput = {}): Policy {
  return policySchema.parse(input);
}

/** The sample policy: trusts the pipeline role and the stack service role. */
export function trustingPolicy(input: PolicyInput = {}): Policy {
  return policyOf({ ...input, trust: { pipelinePrincipals: [PIPELINE_ROLE], stackServiceRoles: [STACK_SERVICE_ROLE], ...(input.trust ?? {}) } });
}

export function contextOf(parts: Partial<ResourceContext> = {}): ResourceContext {
  return { ...emptyContext(NOW), ...parts };
}

export function instanceContext(instanceId: string, extra: Partial<InstanceContext> = {}): Lookup<InstanceContext> {
  return found({ instanceId, state: 'running', tags: {}, networkInterfaces: [], volumes: [], ...extra });
}

export function imageContext(imageId: string, extra: Partial<ImageContext> = {}): Lookup<ImageContext> {
  return found({ imageId, ...extra });
}

/** The input a rule sees, with the trust verdict computed the way classify computes it. */
export function inputOf(event: ChangeEvent, policy: Policy = trustingPolicy(), context: ResourceContext = contextOf()): RuleInput {
  const trust: TrustVerdict = evaluateTrust(event.actor, policy);
  return { event, policy, context, trust };
}

/** The findings of a rule result, failing the test when the rule said "not configured". */
export function findingsOf(result: import('../../../functions/core/rules/types').RuleResult) {
  if ('notConfigured' in result) throw new Error(`expected findings, got notConfigured: ${result.notConfigured.reason}`);
  return result.findings;
}
