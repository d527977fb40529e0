import { run } from '../../functions/aws/steps/revoke-rule';
import { plan, stepContext, steps } from './fixtures';
import { clearClientCache, clientSettingsFromEnv, clientsFor, LazyAwsClients, memberRoleArn, sharedClientConfig } from '../../functions/aws/clients';

describe('clientsFor', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    clearClientCache();
    process.env = { ...saved, AWS_REGION: 'ap-southeast-2', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    delete process.env.DRIFTWARDEN_MAX_ATTEMPTS;
    delete process.env.DRIFTWARDEN_MEMBER_ROLE_NAME;
    delete process.env.DRIFTWARDEN_HOME_ACCOUNT_ID;
  });
  afterAll(() => {
    process.env = saved;
  });

  it('takes the region from AWS_REGION when the event names none, and the event region when it does', async () => {
    expect(await clientsFor({}).ec2.config.region()).toBe('ap-southeast-2');
    expect(await clientsFor({ region: 'eu-west-1' }).ec2.config.region()).toBe('eu-west-1');
  });

  it('creates the clients once per account and region, and reuses them', () => {
    const first = clientsFor({ accountId: '111122223333', region: 'eu-west-1' });
    expect(clientsFor({ accountId: '111122223333', region: 'eu-west-1' })).toBe(first);
    expect(clientsFor({ accountId: '111122223333', region: 'eu-west-1' }).ec2).toBe(first.ec2);
    expect(clientsFor({ accountId: '111122223333', region: 'us-east-1' })).not.toBe(first);
  });

  it('constructs the replacement clients only on first use', () => {
    const clients = clientsFor({ region: 'eu-west-1' }) as LazyAwsClients;
    expect(clients.constructedClients()).toEqual([]);
    void clients.ec2;
    expect(clients.constructedClients()).toEqual(['ec2']);
    void clients.cloudFormation;
    expect(clients.constructedClients()).toEqual(['ec2', 'cloudFormation']);
  });

  it('loads the code of the clients used after containment only when asked, and refuses them before', async () => {
    // A fresh copy of the module: another test may already have loaded that code.
    let isolated!: typeof import('../../functions/aws/clients');
    jest.isolateModules(() => {
      isolated = require('../../functions/aws/clients') as typeof isolated;
    });
    const clients = new isolated.LazyAwsClients({ region: 'eu-west-1', maxAttempts: 1, retryMode: 'standard' });
    for (const name of ['autoScaling', 'elbv2', 'cloudTrail', 'configService'] as const) {
      expect(() => clients[name]).toThrow(isolated.ClientCodeNotLoadedError);
    }
    expect(clients.constructedClients()).toEqual([]);
    const later = await isolated.loadLaterClients();
    expect(clients.autoScaling).toBeInstanceOf(later.AutoScalingClient);
    expect(clients.elbv2).toBeInstanceOf(later.ElasticLoadBalancingV2Client);
    expect(clients.cloudTrail).toBeInstanceOf(later.CloudTrailClient);
    expect(clients.configService).toBeInstanceOf(later.ConfigServiceClient);
    expect(await clients.cloudTrail.config.region()).toBe('eu-west-1');
  });

  it('retries with the SDK retry strategy, 5 attempts by default, DRIFTWARDEN_MAX_ATTEMPTS when set', async () => {
    expect(await clientsFor({ region: 'eu-west-1' }).sns.config.maxAttempts()).toBe(5);
    process.env.DRIFTWARDEN_MAX_ATTEMPTS = '2';
    expect(await clientsFor({ region: 'eu-west-1' }).sns.config.maxAttempts()).toBe(2);
    const strategy = await clientsFor({ region: 'eu-west-1' }).sns.config.retryStrategy();
    expect((strategy as { mode?: string }).mode).toBe('adaptive');
  });

  it('never sets an endpoint itself (the SDK honours AWS_ENDPOINT_URL)', () => {
    const clients = clientsFor({ region: 'eu-west-1' }) as LazyAwsClients;
    expect(Object.keys(clients.config)).not.toContain('endpoint');
  });

  describe('organization mode', () => {
    const settings = (env: Record<string, string>) => clientSettingsFromEnv(env);

    it('assumes the member role in another account, with the external id', () => {
      const s = settings({ DRIFTWARDEN_MEMBER_ROLE_NAME: 'driftwarden-member', DRIFTWARDEN_HOME_ACCOUNT_ID: '999988887777', DRIFTWARDEN_EXTERNAL_ID: 'ext-1' });
      expect(memberRoleArn('111122223333', s)).toBe('arn:aws:iam::111122223333:role/driftwarden-member');
      expect(sharedClientConfig({ accountId: '111122223333', region: 'eu-west-1' }, s).credentials).toEqual(expect.any(Function));
    });

    it('uses its own credentials in the home account, and when the home account is unknown', () => {
      const home = settings({ DRIFTWARDEN_MEMBER_ROLE_NAME: 'driftwarden-member', DRIFTWARDEN_HOME_ACCOUNT_ID: '111122223333' });
      expect(memberRoleArn('111122223333', home)).toBeUndefined();
      const unknownHome = settings({ DRIFTWARDEN_MEMBER_ROLE_NAME: 'driftwarden-member' });
      expect(memberRoleArn('111122223333', unknownHome)).toBeUndefined();
      expect(sharedClientConfig({ accountId: '111122223333' }, unknownHome).credentials).toBeUndefined();
    });
  });
});

describe('retries through the real SDK retry strategy', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    clearClientCache();
    process.env = { ...saved, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', DRIFTWARDEN_MAX_ATTEMPTS: '3', DRIFTWARDEN_RETRY_MODE: 'standard' };
  });
  afterAll(() => {
    process.env = saved;
  });

  it('retries a throttled call up to maxAttempts, then the step reports ThrottlingException', async () => {
    const clients = clientsFor({ region: 'eu-west-1' });
    let attempts = 0;
    // Innermost middleware: stands in for the wire, so no request leaves the process.
    clients.ec2.middlewareStack.add(
      () => async () => {
        attempts++;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      },
      { step: 'deserialize', name: 'fakeThrottlingWire', priority: 'low' },
    );
    const step = steps.revoke();
    const outcome = await run(step, stepContext(clients, plan([step])));
    expect(attempts).toBe(3);
    expect(outcome).toMatchObject({ status: 'failed', errorName: 'ThrottlingException' });
  });
});
