import { MUTATING_COMMANDS, STEP_IAM, allIamActions } from '../../functions/aws/iam';
import { STEP_ORDER } from '../../functions/core/decision';

describe('IAM actions', () => {
  it.each([...STEP_ORDER, 'release', 'context'] as const)('%s declares the IAM actions it needs', (action) => {
    expect(STEP_IAM[action].length).toBeGreaterThan(0);
    for (const iamAction of STEP_IAM[action]) expect(iamAction).toMatch(/^(ec2|autoscaling|elasticloadbalancing|cloudformation|sns|ssm|cloudtrail|config|iam):[A-Z][A-Za-z]+$/);
  });

  it('declares, for each mutating SDK command a step sends, the matching IAM action', () => {
    const actions = allIamActions().map((a) => a.split(':')[1]);
    for (const command of MUTATING_COMMANDS) expect(actions).toContain(command.replace(/Command$/, ''));
  });

  it('lets the stack update pass the stack service role', () => {
    expect(STEP_IAM.replace).toContain('iam:PassRole');
  });
});
