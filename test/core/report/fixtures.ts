import type { Plan, StepOutcome } from '../../../functions/core/decision';
import type { ChangeEvent, Finding } from '../../../functions/core/model';
import type { AlertInput } from '../../../functions/core/report/types';

export function sgEvent(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id: 'e1f2a3b4-0000-4000-8000-000000000001',
    origin: 'cloudtrail',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'AuthorizeSecurityGroupIngress',
    time: '2026-11-26T03:04:05Z',
    accountId: '111122223333',
    region: 'eu-west-1',
    actor: {
      type: 'IAMUser',
      arn: 'arn:aws:iam::111122223333:user/alice',
      name: 'alice',
      accountId: '111122223333',
      sourceIp: '203.0.113.7',
    },
    readOnly: false,
    resources: [{ type: 'security-group', id: 'sg-0abc1234' }],
    change: {
      kind: 'security-group',
      groupId: 'sg-0abc1234',
      operation: 'authorize',
      rules: [{ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }],
    },
    raw: {},
    ...overrides,
  };
}

export function adminPortFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: 'admin-port-open-to-world:e1f2a3b4-0000-4000-8000-000000000001',
    rule: 'admin-port-open-to-world',
    severity: 'HIGH',
    summary: 'SSH (22/tcp) opened to 0.0.0.0/0 on sg-0abc1234',
    resources: [{ type: 'security-group', id: 'sg-0abc1234' }],
    ...overrides,
  };
}

export function containPlan(overrides: Partial<Plan> = {}): Plan {
  const finding = adminPortFinding();
  return {
    key: 'e1f2a3b4-0000-4000-8000-000000000001',
    eventId: 'e1f2a3b4-0000-4000-8000-000000000001',
    decision: 'contain',
    mode: 'contain',
    severity: 'HIGH',
    findings: [finding],
    notConfigured: [],
    steps: [
      {
        action: 'revoke-rule',
        resource: 'sg-0abc1234',
        reason: 'admin port 22 open to the world',
        findingId: finding.id,
        rules: [{ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }],
      },
      { action: 'notify', resource: 'sg-0abc1234', reason: 'alert', findingId: finding.id, severity: 'HIGH' },
    ],
    dryRun: false,
    humanActions: ['Find out why alice opened SSH to the world.'],
    warnings: [],
    resources: [{ type: 'security-group', id: 'sg-0abc1234' }],
    ...overrides,
  };
}

export const revokedOutcome: StepOutcome = { action: 'revoke-rule', resource: 'sg-0abc1234', status: 'done', detail: 'revoked sgr-0123' };

export function alertInput(overrides: Partial<AlertInput> = {}): AlertInput {
  return { kind: 'response', event: sgEvent(), plan: containPlan(), outcomes: [revokedOutcome], ...overrides };
}

/** The isolate-and-replace case: an instance someone opened a shell on. */
export function replaceInput(outcomes: StepOutcome[]): AlertInput {
  const finding: Finding = {
    id: 'shell-access:evt-2',
    rule: 'shell-access',
    severity: 'HIGH',
    summary: 'SSM session opened on i-0123456789abcdef0',
    resources: [{ type: 'instance', id: 'i-0123456789abcdef0' }],
  };
  return {
    kind: 'response',
    event: sgEvent({
      id: 'evt-2',
      eventName: 'StartSession',
      eventSource: 'ssm.amazonaws.com',
      resources: [{ type: 'instance', id: 'i-0123456789abcdef0' }],
      change: { kind: 'shell-access', instanceIds: ['i-0123456789abcdef0'], channel: 'ssm-session' },
    }),
    plan: {
      key: 'evt-2',
      eventId: 'evt-2',
      decision: 'replace',
      mode: 'replace',
      severity: 'HIGH',
      findings: [finding],
      notConfigured: [],
      steps: [
        {
          action: 'isolate-instance',
          resource: 'i-0123456789abcdef0',
          reason: 'shell opened',
          findingId: finding.id,
          networkInterfaces: [{ networkInterfaceId: 'eni-1', groups: ['sg-web'] }],
          forensicHold: true,
        },
        { action: 'replace', resource: 'i-0123456789abcdef0', reason: 'stack member', findingId: finding.id, via: 'stack', stackName: 'web' },
      ],
      dryRun: false,
      humanActions: [],
      warnings: [],
      resources: [{ type: 'instance', id: 'i-0123456789abcdef0' }],
    },
    outcomes,
  };
}
