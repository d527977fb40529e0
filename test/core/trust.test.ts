/**
 * The trust verdict is remembered per policy and actor (an archive repeats a few actors a
 * million times). A remembered verdict must never be handed to an actor it was not judged for:
 * same ARN, but another type, issuer or invoking service, is judged on its own.
 */
import { evaluateTrust } from '../../functions/core/trust';
import type { Actor } from '../../functions/core/model';
import { defaultPolicy, type Policy } from '../../functions/core/policy/schema';

const ROLE_SESSION = 'arn:aws:sts::111122223333:assumed-role/cfn-service-role/session';

function policyWith(trust: Partial<Policy['trust']>): Policy {
  const base = defaultPolicy();
  return { ...base, trust: { ...base.trust, ...trust } };
}

describe('evaluateTrust', () => {
  const policy = policyWith({ pipelinePrincipals: ['arn:aws:iam::111122223333:role/pipeline-deploy'], stackServiceRoles: ['arn:aws:iam::111122223333:role/cfn-service-role'] });
  const byHand: Actor = { type: 'AssumedRole', arn: ROLE_SESSION, issuerArn: 'arn:aws:iam::111122223333:role/cfn-service-role', name: 'cfn-service-role/session' };
  const throughCloudFormation: Actor = { ...byHand, invokedBy: 'cloudformation.amazonaws.com' };

  it('trusts the stack service role only when CloudFormation invoked the call, whichever was judged first', () => {
    expect(evaluateTrust(byHand, policy)).toMatchObject({ trusted: false, reason: 'untrusted' });
    expect(evaluateTrust(throughCloudFormation, policy)).toMatchObject({ trusted: true, reason: 'cloudformation-as-trusted-principal' });
    expect(evaluateTrust(byHand, policy)).toMatchObject({ trusted: false, reason: 'untrusted' });
  });

  it('judges an actor of another type under the same ARN on its own', () => {
    const fresh = policyWith({ awsServices: true });
    const service: Actor = { type: 'AWSService', arn: ROLE_SESSION, name: 'ec2.amazonaws.com' };
    const role: Actor = { type: 'AssumedRole', arn: ROLE_SESSION, name: 'cfn-service-role/session' };
    expect(evaluateTrust(service, fresh)).toMatchObject({ trusted: true, reason: 'aws-service' });
    expect(evaluateTrust(role, fresh)).toMatchObject({ trusted: false, reason: 'untrusted' });
  });

  it('gives the same verdict object for the same actor, and judges afresh under a new policy', () => {
    const first = evaluateTrust(byHand, policy);
    expect(evaluateTrust({ ...byHand }, policy)).toBe(first);
    const trustingPipeline = policyWith({ pipelinePrincipals: [ROLE_SESSION] });
    expect(evaluateTrust(byHand, trustingPipeline)).toMatchObject({ trusted: true, reason: 'pipeline-principal' });
  });
});
