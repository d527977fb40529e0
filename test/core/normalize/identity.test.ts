import { normalize } from '../../../functions/core/normalize';
import type { Actor } from '../../../functions/core/model';
import { accepted, record } from './fixtures';

const actorOf = (userIdentity: unknown, fields: Record<string, unknown> = {}): Actor =>
  accepted(normalize(record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'k' }, { userIdentity, ...fields }))).actor;

describe('who made the change (userIdentity → actor)', () => {
  it('names an IAM user by user name, with ARN, account and principal, never the access key', () => {
    const actor = actorOf(
      { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/ops/alice', accountId: '111122223333', accessKeyId: 'AKIAEXAMPLE0000000001', userName: 'alice' },
      { sourceIPAddress: '203.0.113.24', userAgent: 'aws-cli/2.22.4' },
    );
    expect(actor).toEqual({
      type: 'IAMUser',
      name: 'alice',
      arn: 'arn:aws:iam::111122223333:user/ops/alice',
      accountId: '111122223333',
      principalId: 'AIDAEXAMPLE',
      sourceIp: '203.0.113.24',
      userAgent: 'aws-cli/2.22.4',
    });
  });

  it('gives an assumed-role session its issuing role as issuerArn and "Role/session" as its name', () => {
    const actor = actorOf({
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:bob@example.com',
      arn: 'arn:aws:sts::111122223333:assumed-role/Admin/bob@example.com',
      accountId: '111122223333',
      sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/Admin', userName: 'Admin' }, attributes: {} },
    });
    expect(actor).toMatchObject({ type: 'AssumedRole', name: 'Admin/bob@example.com', arn: 'arn:aws:sts::111122223333:assumed-role/Admin/bob@example.com', issuerArn: 'arn:aws:iam::111122223333:role/Admin' });
  });

  it('keeps invokedBy for CloudFormation acting as a role', () => {
    const actor = actorOf(
      {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::111122223333:assumed-role/cfn-service-role/AWSCloudFormation',
        sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::111122223333:role/cfn-service-role' } },
        invokedBy: 'cloudformation.amazonaws.com',
      },
      { sourceIPAddress: 'cloudformation.amazonaws.com' },
    );
    expect(actor).toMatchObject({ invokedBy: 'cloudformation.amazonaws.com', issuerArn: 'arn:aws:iam::111122223333:role/cfn-service-role', name: 'cfn-service-role/AWSCloudFormation' });
  });

  it.each([
    [{ type: 'Root', principalId: '111122223333', arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333' }, 'Root', 'root'],
    [{ type: 'FederatedUser', arn: 'arn:aws:sts::111122223333:federated-user/carol', sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::111122223333:user/broker' } } }, 'FederatedUser', 'carol'],
    [{ type: 'IdentityCenterUser', accountId: '111122223333', onBehalfOf: { userId: '94482488-3041-7026-18f3-be45837cd0e4', identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-1234567890' } }, 'IdentityCenterUser', 'identity-center/94482488-3041-7026-18f3-be45837cd0e4'],
    [{ type: 'SAMLUser', principalId: 'SAMLExample:dave', userName: 'dave' }, 'SAMLUser', 'dave'],
    [{ type: 'WebIdentityUser', principalId: 'accounts.google.com:1234', userName: 'erin' }, 'WebIdentityUser', 'erin'],
    [{ type: 'AWSService', invokedBy: 'autoscaling.amazonaws.com' }, 'AWSService', 'autoscaling.amazonaws.com'],
    [{ type: 'AWSAccount', principalId: 'AIDAEXAMPLE', accountId: '444455556666' }, 'AWSAccount', 'account 444455556666'],
    [{ principalId: 'AIDAEXAMPLE' }, 'Unknown', 'AIDAEXAMPLE'],
    [{ type: 'SomethingNew', arn: 'arn:aws:iam::111122223333:user/frank' }, 'Unknown', 'frank'],
    [{}, 'Unknown', 'unknown'],
  ])('reads %j as %s named %s', (identity, type, name) => {
    expect(actorOf(identity)).toMatchObject({ type, name });
  });

  it('gives an AWS service no ARN, and keeps the service that acted', () => {
    const actor = actorOf({ type: 'AWSService', invokedBy: 'ec2.amazonaws.com' });
    expect(actor.arn).toBeUndefined();
    expect(actor.invokedBy).toBe('ec2.amazonaws.com');
  });

  it('keeps "AWS Internal" (the console) as invokedBy', () => {
    expect(actorOf({ type: 'IAMUser', userName: 'alice', invokedBy: 'AWS Internal' }).invokedBy).toBe('AWS Internal');
  });

  it('rejects a record whose userIdentity is not an object', () => {
    expect(normalize(record('ec2.amazonaws.com', 'CreateKeyPair', { keyName: 'k' }, { userIdentity: 'alice' }))).toMatchObject({ rejected: true, code: 'missing-field' });
  });
});
