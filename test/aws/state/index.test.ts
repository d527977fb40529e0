import * as alertLimiter from '../../../functions/aws/state/alert-limiter';
import * as audit from '../../../functions/aws/state/audit';
import * as blastRadius from '../../../functions/aws/state/blast-radius';
import * as idempotency from '../../../functions/aws/state/idempotency';
import { STATE_IAM_ACTIONS } from '../../../functions/aws/state/index';
import * as killSwitch from '../../../functions/aws/state/kill-switch';

describe('state modules', () => {
  it.each([
    ['idempotency', idempotency.IAM_ACTIONS],
    ['blast-radius', blastRadius.IAM_ACTIONS],
    ['alert-limiter', alertLimiter.IAM_ACTIONS],
    ['kill-switch', killSwitch.IAM_ACTIONS],
    ['audit', audit.IAM_ACTIONS],
  ])('%s declares the IAM actions it needs, each a service:Action', (_name, actions) => {
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).toMatch(/^(dynamodb|ssm):[A-Z][A-Za-z]+$/);
  });

  it('grants the template exactly what the modules use, per resource', () => {
    expect(STATE_IAM_ACTIONS).toEqual({
      idempotencyTable: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      stateTable: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      killSwitchParameter: ['ssm:GetParameter'],
    });
  });
});
