/**
 * The responder's settings (environment → config, deployment settings over the policy) and
 * where its policy comes from (file or SSM, fail closed on the first load, last good policy
 * kept on a failed reload, reloaded after the TTL).
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyError } from '../../functions/core/errors';
import { defaultPolicy } from '../../functions/core/policy/schema';
import { applyDeploymentSettings, readConfig } from '../../functions/responder/config';
import { PolicySource, PolicyUnavailableError } from '../../functions/responder/policy-source';
import { awsError, EVENTS, samplePolicy } from './harness';

describe('readConfig', () => {
  test('only an explicit "enforce" arms driftwarden; a typo, or nothing, observes', () => {
    expect(readConfig({ DRIFTWARDEN_GLOBAL_MODE: 'enforce' }).globalMode).toBe('enforce');
    expect(readConfig({ DRIFTWARDEN_GLOBAL_MODE: ' Enforce ' }).globalMode).toBe('enforce');
    for (const typo of ['enforced', 'enfroce', 'on', 'true', '']) expect(readConfig({ DRIFTWARDEN_GLOBAL_MODE: typo }).globalMode).toBe('observe');
    expect(readConfig({}).globalMode).toBe('observe');
  });

  test('reads the lists and numbers it is given, and ignores numbers that are not', () => {
    const config = readConfig({
      DRIFTWARDEN_TRUSTED_PRINCIPALS: ' arn:aws:iam::111122223333:role/a , ,arn:aws:iam::111122223333:role/b',
      DRIFTWARDEN_MAX_DESTRUCTIVE_ACTIONS: '3',
      DRIFTWARDEN_WINDOW_MINUTES: 'ten',
      DRIFTWARDEN_POLICY_TTL_SECONDS: '-5',
      DRIFTWARDEN_TOPIC_ARN: ' arn:aws:sns:eu-west-1:111122223333:t ',
    });
    expect(config).toMatchObject({
      trustedPrincipals: ['arn:aws:iam::111122223333:role/a', 'arn:aws:iam::111122223333:role/b'],
      maxDestructiveActions: 3,
      windowMinutes: undefined,
      policyTtlSeconds: 300,
      topicArn: 'arn:aws:sns:eu-west-1:111122223333:t',
    });
  });
});

describe('applyDeploymentSettings', () => {
  test('adds the deployment\'s trusted principals to the policy\'s, never replaces them', () => {
    const policy = samplePolicy();
    const applied = applyDeploymentSettings(policy, readConfig({ DRIFTWARDEN_TRUSTED_PRINCIPALS: 'arn:aws:iam::111122223333:role/extra,arn:aws:iam::111122223333:role/pipeline-deploy' }));
    expect(applied.trust.pipelinePrincipals).toEqual(['arn:aws:iam::111122223333:role/pipeline-deploy', 'arn:aws:iam::111122223333:role/extra']);
    expect(applied.trust.stackServiceRoles).toEqual(policy.trust.stackServiceRoles);
  });

  test('fills the approved-AMI path only when the policy names none (with a trailing slash)', () => {
    const config = readConfig({ DRIFTWARDEN_APPROVED_AMI_PATH: '/golden/amis' });
    expect(applyDeploymentSettings(samplePolicy(), config).approvedAmis.ssmParameterPath).toBe('/driftwarden/golden-amis/');
    const none = defaultPolicy();
    expect(none.approvedAmis.ssmParameterPath).toBeUndefined();
    expect(applyDeploymentSettings(none, config).approvedAmis.ssmParameterPath).toBe('/golden/amis/');
    expect(applyDeploymentSettings(none, readConfig({})).approvedAmis.ssmParameterPath).toBeUndefined();
  });

  test('the deployment\'s limits win when set, and the policy\'s stay otherwise', () => {
    const policy = samplePolicy();
    expect(applyDeploymentSettings(policy, readConfig({ DRIFTWARDEN_MAX_DESTRUCTIVE_ACTIONS: '0' })).limits.maxDestructiveActions).toBe(0);
    expect(applyDeploymentSettings(policy, readConfig({})).limits).toEqual(policy.limits);
  });
});

describe('PolicySource', () => {
  const ssm = mockClient(SSMClient);
  afterEach(() => ssm.reset());
  afterAll(() => ssm.restore());
  const yaml = readFileSync(join(EVENTS, 'policy.yaml'), 'utf8');
  const client = () => new SSMClient({ region: 'eu-west-1' });

  test('reads a .yaml file', async () => {
    const source = new PolicySource({ source: join(EVENTS, 'policy.yaml'), ssm: client, ttlSeconds: 300 });
    const policy = await source.get();
    expect(policy.rules['instance-manual-change'].mode).toBe('replace');
    expect(ssm).not.toHaveReceivedCommand(GetParameterCommand);
  });

  test('reads an SSM parameter (decrypted) and reuses it within the TTL', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/driftwarden/policy', Value: yaml } });
    let now = 0;
    const source = new PolicySource({ source: '/driftwarden/policy', ssm: client, ttlSeconds: 60, now: () => now });
    expect((await source.get()).trust.pipelinePrincipals).toEqual(['arn:aws:iam::111122223333:role/pipeline-deploy']);
    now = 59_000;
    await source.get();
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/driftwarden/policy', WithDecryption: true });
  });

  test('reloads after the TTL and picks up an edit', async () => {
    ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: yaml } }).resolves({ Parameter: { Value: yaml.replace('instance-manual-change:\n    mode: replace', 'instance-manual-change:\n    mode: observe') } });
    let now = 0;
    const source = new PolicySource({ source: '/driftwarden/policy', ssm: client, ttlSeconds: 60, now: () => now });
    expect((await source.get()).rules['instance-manual-change'].mode).toBe('replace');
    now = 60_000;
    expect((await source.get()).rules['instance-manual-change'].mode).toBe('observe');
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  test('an unreadable parameter on the first load is a PolicyUnavailableError: never act under an unread policy', async () => {
    ssm.on(GetParameterCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    const source = new PolicySource({ source: '/driftwarden/policy', ssm: client, ttlSeconds: 60 });
    await expect(source.get()).rejects.toBeInstanceOf(PolicyUnavailableError);
    await expect(source.get()).rejects.toThrow(/cannot read the policy parameter \/driftwarden\/policy: not authorized; not acting/);
  });

  test('an invalid policy on the first load is a PolicyError', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'version: 1\nrules:\n  admin-port-open-to-world:\n    mode: nuke\n' } });
    const source = new PolicySource({ source: '/driftwarden/policy', ssm: client, ttlSeconds: 60 });
    await expect(source.get()).rejects.toBeInstanceOf(PolicyError);
  });

  test('a failed reload keeps the last good policy, says so, and does not retry before the next TTL', async () => {
    ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: yaml } }).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    let now = 0;
    const failures: unknown[] = [];
    const source = new PolicySource({ source: '/driftwarden/policy', ssm: client, ttlSeconds: 60, now: () => now, onReloadFailure: (e) => failures.push(e) });
    const first = await source.get();
    now = 61_000;
    await expect(source.get()).resolves.toBe(first);
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/Rate exceeded/);
    now = 62_000;
    await expect(source.get()).resolves.toBe(first);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  test('no source: the built-in defaults', async () => {
    const source = new PolicySource({ ssm: client, ttlSeconds: 60 });
    expect(await source.get()).toEqual(defaultPolicy());
  });
});
