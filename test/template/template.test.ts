import { FUNCTION_IAM, FUNCTION_NAMES, memberRoleIamActions, type FunctionName } from '../../functions/aws/function-iam';
import { parseCfnYaml, type CfnTemplate } from './cfn-yaml';
import { artifactFolder, eventPatterns, inlinePolicyActions, resourcesOfType, roleLogicalId, statementActions, template, templatePaths, type Resource } from './templates';

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

const main = (): CfnTemplate => template('template.yaml');

/** Every function of template.yaml, keyed by the name of the bundle it ships (dist/functions/<name>/). */
function functionsByName(): Record<FunctionName, [string, Resource]> {
  const out: Partial<Record<FunctionName, [string, Resource]>> = {};
  for (const [id, fn] of resourcesOfType(main(), 'AWS::Serverless::Function')) {
    const match = /^dist\/functions\/([a-z-]+)\/?$/.exec(artifactFolder(id, fn));
    if (match && (FUNCTION_NAMES as readonly string[]).includes(match[1])) out[match[1] as FunctionName] = [id, fn];
  }
  return out as Record<FunctionName, [string, Resource]>;
}

describe('the CloudFormation YAML loader', () => {
  it('turns every short-form intrinsic into its long form', () => {
    const parsed = parseCfnYaml(
      [
        'a: !Ref X',
        'b: !GetAtt R.Arn',
        'c: !GetAtt [R, Arn]',
        "d: !Sub '${AWS::Region}'",
        'e: !If [C, !Ref A, !Ref AWS::NoValue]',
        'f: !Select [0, !GetAZs ""]',
        'g: !Join [",", !Split ["|", "a|b"]]',
        'h: !FindInMap [M, K, V]',
        'i: !ImportValue out',
        'j: !Base64 text',
        'k: !Cidr [10.0.0.0/16, 4, 8]',
        'l: !And [!Equals [a, b], !Not [!Condition Other], !Or [!Condition X, !Condition Y]]',
      ].join('\n'),
    ) as Record<string, unknown>;
    expect(parsed).toEqual({
      a: { Ref: 'X' },
      b: { 'Fn::GetAtt': ['R', 'Arn'] },
      c: { 'Fn::GetAtt': ['R', 'Arn'] },
      d: { 'Fn::Sub': '${AWS::Region}' },
      e: { 'Fn::If': ['C', { Ref: 'A' }, { Ref: 'AWS::NoValue' }] },
      f: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      g: { 'Fn::Join': [',', { 'Fn::Split': ['|', 'a|b'] }] },
      h: { 'Fn::FindInMap': ['M', 'K', 'V'] },
      i: { 'Fn::ImportValue': 'out' },
      j: { 'Fn::Base64': 'text' },
      k: { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] },
      l: {
        'Fn::And': [{ 'Fn::Equals': ['a', 'b'] }, { 'Fn::Not': [{ Condition: 'Other' }] }, { 'Fn::Or': [{ Condition: 'X' }, { Condition: 'Y' }] }],
      },
    });
  });
});

describe.each(templatePaths())('%s: references', (path) => {
  const t = template(path);
  const parameters = new Set(Object.keys(t.Parameters ?? {}));
  const resources = new Set(Object.keys(t.Resources));
  const conditions = new Set(Object.keys(t.Conditions ?? {}));
  const isSam = t.Transform === 'AWS::Serverless-2016-10-31';
  const samFunctionsWithAlias = new Set(
    resourcesOfType(t, 'AWS::Serverless::Function')
      .filter(([, r]) => r.Properties?.AutoPublishAlias !== undefined)
      .map(([id]) => id),
  );
  const samGenerated = new Set<string>();
  if (isSam && resourcesOfType(t, 'AWS::Serverless::Function').some(([, r]) => r.Properties?.DeploymentPreference)) {
    samGenerated.add('ServerlessDeploymentApplication');
  }

  const refTargetExists = (name: string): boolean => {
    if (PSEUDO_PARAMETERS.has(name) || parameters.has(name) || resources.has(name) || samGenerated.has(name)) return true;
    // SAM: `!Ref Fn.Alias` / `!Ref Fn.Version` name the alias and version AutoPublishAlias creates.
    const [base, suffix] = name.split('.');
    return suffix !== undefined && (suffix === 'Alias' || suffix === 'Version') && samFunctionsWithAlias.has(base);
  };

  const problems: string[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.Ref === 'string' && !refTargetExists(obj.Ref)) problems.push(`${where}: !Ref ${obj.Ref}`);
    const getAtt = obj['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && !resources.has(getAtt[0]) && !samGenerated.has(getAtt[0])) {
      problems.push(`${where}: !GetAtt ${getAtt.join('.')}`);
    }
    const sub = obj['Fn::Sub'];
    if (sub !== undefined) {
      const [text, vars] = Array.isArray(sub) ? [sub[0] as string, (sub[1] ?? {}) as Record<string, unknown>] : [sub as string, {}];
      for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const name = m[1].trim();
        if (name in vars) continue;
        const base = name.includes('.') && !name.startsWith('AWS::') ? name.split('.')[0] : name;
        if (!refTargetExists(name) && !refTargetExists(base)) problems.push(`${where}: \${${name}} in !Sub`);
      }
    }
    const ifArgs = obj['Fn::If'];
    if (Array.isArray(ifArgs) && typeof ifArgs[0] === 'string' && !conditions.has(ifArgs[0])) problems.push(`${where}: !If ${ifArgs[0]}`);
    if (typeof obj.Condition === 'string' && Object.keys(obj).length === 1 && !conditions.has(obj.Condition)) {
      problems.push(`${where}: !Condition ${obj.Condition}`);
    }
    for (const [k, v] of Object.entries(obj)) walk(v, `${where}.${k}`);
  };

  it('every !Ref, !GetAtt, !Sub variable, !If and !Condition names something that exists', () => {
    walk(t.Resources, 'Resources');
    walk(t.Outputs ?? {}, 'Outputs');
    walk(t.Conditions ?? {}, 'Conditions');
    walk(t.Globals ?? {}, 'Globals');
    for (const [id, r] of Object.entries({ ...t.Resources, ...(t.Outputs as Record<string, Resource> | undefined) })) {
      if (typeof r.Condition === 'string' && !conditions.has(r.Condition)) problems.push(`${id}: Condition ${r.Condition}`);
    }
    expect(problems).toEqual([]);
  });
});

describe.each(templatePaths())('%s: event rules', (path) => {
  const rules = resourcesOfType(template(path), 'AWS::Events::Rule');

  it.each(rules.length > 0 ? rules.map(([id]) => id) : ['(no rules)'])('%s: every target has a retry policy and a dead-letter queue', (id) => {
    if (id === '(no rules)') return expect(rules).toEqual([]);
    const targets = (rules.find(([rid]) => rid === id)![1].Properties?.Targets ?? []) as Record<string, any>[];
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) });
      expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } });
    }
  });

  it('names every rule driftwarden-…, which the tamper rule watches', () => {
    for (const [, r] of rules) expect(r.Properties?.Name).toMatch(/^driftwarden-/);
  });
});

describe.each(templatePaths())('%s: IAM', (path) => {
  const t = template(path);
  const documents: [string, { Statement: Record<string, any>[] }][] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of (r.Properties?.Policies ?? []) as { PolicyName: string; PolicyDocument: { Statement: Record<string, any>[] } }[]) {
        documents.push([`${id}/${p.PolicyName}`, p.PolicyDocument]);
      }
    }
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') documents.push([id, r.Properties!.PolicyDocument]);
  }

  it('grants no `*` or `service:*` action', () => {
    const broad = documents.flatMap(([id, doc]) =>
      doc.Statement.filter((s) => s.Effect === 'Allow')
        .flatMap(statementActions)
        .filter((a) => a === '*' || /^[a-z0-9-]+:\*$/i.test(a))
        .map((a) => `${id}: ${a}`),
    );
    expect(broad).toEqual([]);
  });

  it('uses no NotAction in an Allow (it would grant everything else)', () => {
    const notActions = documents.flatMap(([id, doc]) => doc.Statement.filter((s) => s.Effect === 'Allow' && s.NotAction).map(() => id));
    expect(notActions).toEqual([]);
  });

  it('names every role driftwarden-… (the policy trusts arn:aws:iam::*:role/driftwarden-* as driftwarden itself)', () => {
    const roles = resourcesOfType(t, 'AWS::IAM::Role').filter(([, r]) => r.Properties?.RoleName !== undefined);
    for (const [id, r] of roles) {
      const name = r.Properties!.RoleName;
      // A role named by a parameter (MemberRoleName) is held to it by the parameter's AllowedPattern.
      const text =
        typeof name === 'string'
          ? name
          : name.Ref
            ? String((t.Parameters?.[name.Ref] as { AllowedPattern?: string } | undefined)?.AllowedPattern ?? name.Ref)
            : String(name['Fn::Sub'] ?? '');
      expect({ id, name: text }).toEqual({ id, name: expect.stringMatching(/^\^?driftwarden-/) });
    }
  });
});

describe('template.yaml: functions', () => {
  const fns = functionsByName();

  it('deploys the four functions from their prebuilt bundles', () => {
    expect(Object.keys(fns).sort()).toEqual([...FUNCTION_NAMES].sort());
    const globals = main().Globals!.Function;
    expect(globals).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
  });

  it.each(FUNCTION_NAMES)("the %s role's actions are exactly those in functions/aws/function-iam.ts", (name) => {
    const [, fn] = fns[name];
    const roleId = roleLogicalId(fn);
    expect(roleId).toBeDefined();
    const role = main().Resources[roleId!];
    const actions = inlinePolicyActions(role, 'actions');
    expect([...new Set(actions)].sort()).toEqual([...FUNCTION_IAM[name]].sort());
    // Anything else in the role is delivery plumbing: the on-failure queue, nothing more.
    const policies = (role.Properties!.Policies as { PolicyName: string }[]).map((p) => p.PolicyName).sort();
    expect(policies.filter((p) => p !== 'actions' && p !== 'delivery')).toEqual([]);
    const delivery = inlinePolicyActions(role, 'delivery');
    if (delivery) expect(delivery).toEqual(['sqs:SendMessage']);
  });

  it('terminates only instances that carry the quarantine tag', () => {
    for (const name of ['responder', 'watcher', 'sweeper'] as const) {
      const role = main().Resources[roleLogicalId(fns[name][1])!];
      const statements = (role.Properties!.Policies as { PolicyDocument: { Statement: Record<string, any>[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
      const terminate = statements.filter((s) => statementActions(s).includes('ec2:TerminateInstances'));
      expect(terminate).toHaveLength(1);
      expect(terminate[0].Condition).toEqual({ Null: { 'aws:ResourceTag/driftwarden:quarantined': 'false' } });
    }
  });

  it('creates security groups only when they are tagged as isolation groups', () => {
    const role = main().Resources[roleLogicalId(fns.responder[1])!];
    const statements = (role.Properties!.Policies as { PolicyDocument: { Statement: Record<string, any>[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
    const onGroups = statements.filter((s) => statementActions(s).includes('ec2:CreateSecurityGroup') && JSON.stringify(s.Resource).includes('security-group/'));
    expect(onGroups).toHaveLength(1);
    expect(onGroups[0].Condition).toEqual({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['driftwarden:isolation', 'driftwarden:untrack'] } });
  });

  it('sends every failed asynchronous invocation of the event-driven functions to the failure queue', () => {
    for (const name of ['responder', 'watcher', 'sweeper'] as const) {
      const [, fn] = fns[name];
      expect(fn.Properties!.EventInvokeConfig.DestinationConfig.OnFailure).toEqual({ Type: 'SQS', Destination: { 'Fn::GetAtt': ['FunctionFailureQueue', 'Arn'] } });
    }
  });

  it('gates responder deployments on a PreTraffic hook CodeDeploy may invoke (CodeDeployHook_*), with rollback alarms', () => {
    const [, responder] = fns.responder;
    const [hookId, hook] = fns.hook;
    expect(responder.Properties!.AutoPublishAlias).toBe('live');
    expect(responder.Properties!.ReservedConcurrentExecutions).toBeDefined();
    const preference = responder.Properties!.DeploymentPreference;
    expect(preference.Type).toBe('AllAtOnce');
    expect(preference.Hooks).toEqual({ PreTraffic: { Ref: hookId } });
    expect(preference.Alarms.length).toBeGreaterThan(0);
    expect(hook.Properties!.FunctionName).toMatch(/^CodeDeployHook_/);
  });

  it('targets the live alias, never $LATEST, from every rule', () => {
    for (const [, rule] of resourcesOfType(main(), 'AWS::Events::Rule')) {
      for (const target of rule.Properties!.Targets as { Arn: unknown }[]) {
        expect(target.Arn).toEqual({ Ref: expect.stringMatching(/Function\.Alias$/) });
      }
    }
  });

  it('alarms on the heartbeat with missing data breaching, for exactly HeartbeatQuietMinutes', () => {
    const heartbeat = resourcesOfType(main(), 'AWS::CloudWatch::Alarm').find(([, a]) => a.Properties!.MetricName === 'EventsReceived')![1].Properties!;
    expect(heartbeat).toMatchObject({
      Namespace: 'driftwarden',
      Period: 60,
      EvaluationPeriods: { Ref: 'HeartbeatQuietMinutes' },
      DatapointsToAlarm: { Ref: 'HeartbeatQuietMinutes' },
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
    });
  });
});

describe('infra/member-account.yaml', () => {
  const member = template('infra/member-account.yaml');

  it("allows exactly what the central functions may do in a member account (function-iam.ts)", () => {
    const role = member.Resources.MemberRole;
    expect([...new Set(inlinePolicyActions(role, 'actions'))].sort()).toEqual([...memberRoleIamActions()].sort());
  });

  it('trusts only the central roles, and only with the external id', () => {
    const statement = member.Resources.MemberRole.Properties!.AssumeRolePolicyDocument.Statement[0];
    expect(statement.Condition).toEqual({ StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } });
    const principals = statement.Principal.AWS.map((p: { 'Fn::Sub': string }) => p['Fn::Sub']);
    expect(principals).toEqual([
      'arn:${AWS::Partition}:iam::${CentralAccountId}:role/driftwarden-responder-${CentralRegion}',
      'arn:${AWS::Partition}:iam::${CentralAccountId}:role/driftwarden-watcher-${CentralRegion}',
      'arn:${AWS::Partition}:iam::${CentralAccountId}:role/driftwarden-sweeper-${CentralRegion}',
    ]);
  });
});

describe('forwarders', () => {
  const centralPatterns = Object.values(eventPatterns(main())).map((p) => JSON.stringify(p)).sort();

  it.each(['infra/member-account.yaml', 'infra/regional-forwarder.yaml'])('%s forwards exactly the patterns the central rules match', (path) => {
    const forwarded = Object.values(eventPatterns(template(path))).map((p) => JSON.stringify(p)).sort();
    expect(forwarded).toEqual(centralPatterns);
  });
});

describe('infra/example-workload.yaml honours the replacement contract (functions/aws/steps/replace.ts)', () => {
  const w = template('infra/example-workload.yaml');

  it('declares the replacement token and feeds it into the launch template as an instance tag', () => {
    expect(w.Parameters!.DriftwardenReplacementToken).toMatchObject({ Type: 'String', Default: 'initial' });
    const lt = w.Resources.LaunchTemplate.Properties!.LaunchTemplateData;
    expect(lt.TagSpecifications).toContainEqual({
      ResourceType: 'instance',
      Tags: expect.arrayContaining([{ Key: 'driftwarden:replacement-token', Value: { Ref: 'DriftwardenReplacementToken' } }]),
    });
    expect(lt.ImageId).toEqual({ Ref: 'GoldenImageId' });
    expect(w.Parameters!.GoldenImageId.Type).toBe('AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>');
    expect(String(w.Parameters!.GoldenImageId.Default)).toMatch(/^\/driftwarden\/golden-amis\//);
  });

  it('launches the instance from the latest launch template version, keeps it on replacement, and waits for its signal', () => {
    const instance = w.Resources.WorkloadInstance;
    expect(instance.Properties!.LaunchTemplate).toEqual({
      LaunchTemplateId: { Ref: 'LaunchTemplate' },
      Version: { 'Fn::GetAtt': ['LaunchTemplate', 'LatestVersionNumber'] },
    });
    expect(instance.UpdateReplacePolicy).toBe('Retain');
    expect(instance.DeletionPolicy).toBe('Retain');
    expect(instance.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: expect.any(String) } });
    expect(JSON.stringify(instance.Properties!.UserData)).toContain('cfn-signal');
  });

  it('runs an Auto Scaling group from the same launch template', () => {
    const group = resourcesOfType(w, 'AWS::AutoScaling::AutoScalingGroup')[0][1];
    expect(group.Properties!.LaunchTemplate.LaunchTemplateId).toEqual({ Ref: 'LaunchTemplate' });
  });
});
