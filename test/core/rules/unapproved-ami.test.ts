import { found, notFound, unknown } from '../../../functions/core/context';
import type { ChangeEvent } from '../../../functions/core/model';
import type { PolicyInput } from '../../../functions/core/policy/schema';
import { unapprovedAmi } from '../../../functions/core/rules/unapproved-ami';
import { actors, contextOf, eventOf, findingsOf, imageContext, inputOf, instanceContext, trustingPolicy } from './fixtures';

const GOLDEN = 'ami-0a1b2c3d4e5f60001';
const ROGUE = 'ami-0bad0000000000bad';
const GOLDEN_OWNER = '444455556666';

const launch = (imageId: string | undefined, extra: Partial<Extract<ChangeEvent['change'], { kind: 'instance-launch' }>> = {}, overrides: Partial<ChangeEvent> = {}) =>
  eventOf({ kind: 'instance-launch', instanceIds: ['i-0new'], imageId, ...extra }, { eventName: 'RunInstances', time: '2026-03-01T11:59:00Z', ...overrides });

const policy = (approvedAmis: PolicyInput['approvedAmis']) => trustingPolicy({ approvedAmis });

describe('unapproved-ami', () => {
  it('is HIGH, contains by default, and does not care who launched', () => {
    expect(unapprovedAmi).toMatchObject({ severity: 'HIGH', defaultMode: 'contain', actorMatters: false });
  });

  it('says it is not configured when no ids, owners or SSM path are set, and never guesses', () => {
    expect(unapprovedAmi.evaluate(inputOf(launch(ROGUE), trustingPolicy()))).toEqual({
      notConfigured: {
        rule: 'unapproved-ami',
        reason: 'No approved AMIs are configured: set approvedAmis.ids, approvedAmis.owners or approvedAmis.ssmParameterPath.',
      },
    });
  });

  it('says nothing about events that launch nothing, even when not configured', () => {
    const event = eventOf({ kind: 'instance-change', instanceIds: ['i-0'], attribute: 'stop' });
    expect(unapprovedAmi.evaluate(inputOf(event, trustingPolicy()))).toEqual({ findings: [] });
  });

  it('flags a launch from an image not in the approved ids, as a launch-time finding naming the caller\'s request', () => {
    const event = launch(ROGUE);
    const [finding] = findingsOf(unapprovedAmi.evaluate(inputOf(event, policy({ ids: [GOLDEN] }))));
    expect(finding).toEqual({
      id: `unapproved-ami:${event.id}`,
      rule: 'unapproved-ami',
      severity: 'HIGH',
      summary: `i-0new launched by alice from unapproved image ${ROGUE} (not in approvedAmis.ids); fix the caller's RunInstances request`,
      resources: [
        { type: 'instance', id: 'i-0new' },
        { type: 'image', id: ROGUE },
      ],
      launchTime: true,
      launchSource: "the caller's RunInstances request",
    });
  });

  it('names the launch template (id and version) that launched it', () => {
    const event = launch(ROGUE, { launchTemplate: { id: 'lt-0123456789abcdef0', version: '3' } });
    const [finding] = findingsOf(unapprovedAmi.evaluate(inputOf(event, policy({ ids: [GOLDEN] }))));
    expect(finding!.launchSource).toBe('launch template lt-0123456789abcdef0 (version 3)');
    expect(finding!.resources).toContainEqual({ type: 'launch-template', id: 'lt-0123456789abcdef0' });
  });

  it('names the Auto Scaling group and stack from the instance context when the event names no template', () => {
    const context = contextOf({
      instances: { 'i-0new': instanceContext('i-0new', { autoScalingGroup: 'api-asg', stack: { stackName: 'api' }, launchTemplate: { name: 'api-lt', version: '7' } }) },
    });
    const [finding] = findingsOf(unapprovedAmi.evaluate(inputOf(launch(ROGUE, {}, { actor: actors.pipeline }), policy({ ids: [GOLDEN] }), context)));
    expect(finding!.launchSource).toBe('launch template api-lt (version 7) of Auto Scaling group api-asg in stack api');
  });

  it('flags the pipeline too: the actor does not matter', () => {
    expect(findingsOf(unapprovedAmi.evaluate(inputOf(launch(ROGUE, {}, { actor: actors.pipeline }), policy({ ids: [GOLDEN] }))))).toHaveLength(1);
  });

  it('approves an image listed in ids without reading anything else', () => {
    expect(unapprovedAmi.evaluate(inputOf(launch(GOLDEN), policy({ ids: [GOLDEN], owners: [GOLDEN_OWNER] })))).toEqual({ findings: [] });
  });

  it('approves an image published under the SSM path, and flags one that is not', () => {
    const context = contextOf({ approvedAmiIds: found([GOLDEN]) });
    const p = policy({ ssmParameterPath: '/driftwarden/golden-amis/' });
    expect(unapprovedAmi.evaluate(inputOf(launch(GOLDEN), p, context))).toEqual({ findings: [] });
    const [finding] = findingsOf(unapprovedAmi.evaluate(inputOf(launch(ROGUE), p, context)));
    expect(finding!.summary).toContain('not published under /driftwarden/golden-amis/');
  });

  it('approves an image owned by an approved owner, and flags another owner', () => {
    const p = policy({ owners: [GOLDEN_OWNER] });
    const context = contextOf({ images: { [GOLDEN]: imageContext(GOLDEN, { ownerId: GOLDEN_OWNER }), [ROGUE]: imageContext(ROGUE, { ownerId: '999988887777' }) } });
    expect(unapprovedAmi.evaluate(inputOf(launch(GOLDEN), p, context))).toEqual({ findings: [] });
    const [finding] = findingsOf(unapprovedAmi.evaluate(inputOf(launch(ROGUE), p, context)));
    expect(finding!.summary).toContain('owner 999988887777 is not an approved owner');
  });

  it('is undetermined, not a finding, when the SSM path could not be read', () => {
    const context = contextOf({ approvedAmiIds: unknown('AccessDeniedException') });
    expect(unapprovedAmi.evaluate(inputOf(launch(ROGUE), policy({ ssmParameterPath: '/driftwarden/golden-amis/' }), context))).toEqual({
      findings: [],
      undetermined: {
        reason: `cannot tell whether ${ROGUE} is approved: the approved AMI ids under /driftwarden/golden-amis/ could not be read: AccessDeniedException`,
        resources: [
          { type: 'instance', id: 'i-0new' },
          { type: 'image', id: ROGUE },
        ],
      },
    });
  });

  it('is undetermined when the owner matters and the image could not be described', () => {
    const context = contextOf({ images: { [ROGUE]: unknown('Throttling') } });
    const result = unapprovedAmi.evaluate(inputOf(launch(ROGUE), policy({ ids: [GOLDEN], owners: [GOLDEN_OWNER] }), context));
    expect(findingsOf(result)).toEqual([]);
    expect('undetermined' in result && result.undetermined?.reason).toBe(
      `cannot tell whether ${ROGUE} is approved: its owner is unknown: ${ROGUE} could not be described: Throttling`,
    );
  });

  describe('maxAgeDays', () => {
    const p = policy({ ids: [GOLDEN], maxAgeDays: 180 });

    it('approves a listed image created within maxAgeDays of the launch', () => {
      const context = contextOf({ images: { [GOLDEN]: imageContext(GOLDEN, { creationDate: '2025-12-01T00:00:00.000Z' }) } });
      expect(unapprovedAmi.evaluate(inputOf(launch(GOLDEN), p, context))).toEqual({ findings: [] });
    });

    it('flags a listed image older than maxAgeDays at launch', () => {
      const context = contextOf({ images: { [GOLDEN]: imageContext(GOLDEN, { creationDate: '2025-08-01T00:00:00.000Z' }) } });
      const [finding] = findingsOf(unapprovedAmi.evaluate(inputOf(launch(GOLDEN), p, context)));
      expect(finding!.summary).toContain(`${GOLDEN} (created 212 days before launch, over maxAgeDays 180)`);
    });

    it('is undetermined when the age of a listed image cannot be read', () => {
      const context = contextOf({ images: { [GOLDEN]: unknown('Throttling') } });
      const result = unapprovedAmi.evaluate(inputOf(launch(GOLDEN), p, context));
      expect(findingsOf(result)).toEqual([]);
      expect('undetermined' in result && result.undetermined?.reason).toBe(
        `${GOLDEN} is approved, but its age is unknown: ${GOLDEN} could not be described: Throttling (maxAgeDays 180)`,
      );
    });

    it('is undetermined when the image is not found and its age matters', () => {
      const context = contextOf({ images: { [GOLDEN]: notFound() } });
      const result = unapprovedAmi.evaluate(inputOf(launch(GOLDEN), p, context));
      expect(findingsOf(result)).toEqual([]);
      expect('undetermined' in result && result.undetermined?.resources).toEqual([
        { type: 'instance', id: 'i-0new' },
        { type: 'image', id: GOLDEN },
      ]);
    });

    it('flags a too-old image even when its membership could not be read', () => {
      const context = contextOf({
        approvedAmiIds: unknown('AccessDenied'),
        images: { [ROGUE]: imageContext(ROGUE, { creationDate: '2020-01-01T00:00:00Z' }) },
      });
      const result = unapprovedAmi.evaluate(inputOf(launch(ROGUE), policy({ ssmParameterPath: '/golden/', maxAgeDays: 180 }), context));
      expect(findingsOf(result)).toHaveLength(1);
    });
  });

  describe('from a Config item of an instance', () => {
    const configItem = (extra: { imageId?: string; changeType?: string }) =>
      eventOf(
        { kind: 'config-item', resourceType: 'AWS::EC2::Instance', resourceId: 'i-0cfg', changeType: extra.changeType ?? 'CREATE', status: 'ResourceDiscovered', oversized: false, imageId: extra.imageId },
        { origin: 'config', eventSource: 'config.amazonaws.com', eventName: 'ConfigurationItemChange', actor: actors.configService },
      );

    it('flags an instance recorded with an unapproved image', () => {
      const [finding] = findingsOf(unapprovedAmi.evaluate(inputOf(configItem({ imageId: ROGUE }), policy({ ids: [GOLDEN] }))));
      expect(finding).toMatchObject({ launchTime: true, resources: [{ type: 'instance', id: 'i-0cfg' }, { type: 'image', id: ROGUE }] });
      expect(finding!.summary).toMatch(/^i-0cfg launched from unapproved image/);
    });

    it('reads the image from the instance context when the item does not carry it (oversized)', () => {
      const context = contextOf({ instances: { 'i-0cfg': instanceContext('i-0cfg', { imageId: ROGUE, launchTemplate: { id: 'lt-0aa' } }) } });
      const [finding] = findingsOf(unapprovedAmi.evaluate(inputOf(configItem({}), policy({ ids: [GOLDEN] }), context)));
      expect(finding!.launchSource).toBe('launch template lt-0aa');
    });

    it('is undetermined when neither the item nor the context names the image', () => {
      const context = contextOf({ instances: { 'i-0cfg': unknown('RequestLimitExceeded') } });
      const result = unapprovedAmi.evaluate(inputOf(configItem({}), policy({ ids: [GOLDEN] }), context));
      expect(findingsOf(result)).toEqual([]);
      expect('undetermined' in result && result.undetermined?.resources).toEqual([{ type: 'instance', id: 'i-0cfg' }]);
    });

    it('measures age at the recorded launch time, so a long-running instance does not turn unapproved', () => {
      const context = contextOf({
        instances: { 'i-0cfg': instanceContext('i-0cfg', { imageId: GOLDEN, launchTime: '2025-06-01T00:00:00Z' }) },
        images: { [GOLDEN]: imageContext(GOLDEN, { creationDate: '2025-05-01T00:00:00Z' }) },
      });
      const event = configItem({ imageId: GOLDEN, changeType: 'UPDATE' });
      expect(unapprovedAmi.evaluate(inputOf(event, policy({ ids: [GOLDEN], maxAgeDays: 180 }), context))).toEqual({ findings: [] });
    });

    it('ignores deleted instances', () => {
      expect(unapprovedAmi.evaluate(inputOf(configItem({ imageId: ROGUE, changeType: 'DELETE' }), policy({ ids: [GOLDEN] })))).toEqual({ findings: [] });
    });
  });
});
