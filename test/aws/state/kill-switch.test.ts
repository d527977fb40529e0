import { GetParameterCommand, ParameterNotFound, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { IAM_ACTIONS, readKillSwitch } from '../../../functions/aws/state/kill-switch';

const ssm = mockClient(SSMClient);
const client = new SSMClient({ region: 'us-east-1' });
const parameterName = '/driftwarden/kill-switch';

function parameterValue(value: string): void {
  ssm.on(GetParameterCommand, { Name: parameterName }).resolves({ Parameter: { Name: parameterName, Value: value, Type: 'String' } });
}

beforeEach(() => ssm.reset());

describe('readKillSwitch', () => {
  it.each(['on', 'ON', 'true', 'Observe', ' engaged '])('engages on %j', async (value) => {
    parameterValue(value);

    const state = await readKillSwitch(client, parameterName);

    expect(state.engaged).toBe(true);
    expect(state.unreadable).toBeUndefined();
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: parameterName, WithDecryption: true });
  });

  it.each(['off', 'false', '', 'enforce'])('stays disengaged on %j', async (value) => {
    parameterValue(value);

    expect(await readKillSwitch(client, parameterName)).toMatchObject({ engaged: false });
  });

  it('is not engaged when the parameter does not exist', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));

    const state = await readKillSwitch(client, parameterName);

    expect(state).toEqual({ engaged: false, reason: `kill switch ${parameterName} does not exist (not engaged)` });
  });

  it('engages (fails closed) when the parameter cannot be read', async () => {
    ssm.on(GetParameterCommand).rejects(
      new SSMServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'not authorized to perform ssm:GetParameter', $metadata: {} }),
    );

    const state = await readKillSwitch(client, parameterName);

    expect(state.engaged).toBe(true);
    expect(state.unreadable).toBe(true);
    expect(state.reason).toMatch(/^kill switch unreadable: AccessDeniedException: not authorized/);
  });

  it('reads the parameter on every call, so a switch pulled between invocations takes effect at once', async () => {
    parameterValue('off');
    expect((await readKillSwitch(client, parameterName)).engaged).toBe(false);

    parameterValue('on');
    expect((await readKillSwitch(client, parameterName)).engaged).toBe(true);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  it('declares the IAM action it uses', () => {
    expect(IAM_ACTIONS).toEqual(['ssm:GetParameter']);
  });
});
