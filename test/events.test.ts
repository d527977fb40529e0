/**
 * The sample events in events/: each is a real EventBridge envelope, normalizes as
 * events/expected.json says, and names only resources that events/account-snapshot.json
 * describes, so that a replay of the samples has the context it needs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeText } from '../functions/core/normalize';
import { RULE_IDS, type ChangeEvent, type RejectionCode } from '../functions/core/model';
import { SnapshotContextReader, loadSnapshotFile } from '../functions/core/snapshot';

const EVENTS = join(__dirname, '../events');
const FOLDERS = ['positive', 'negative', 'invalid'] as const;

interface Expectation {
  rules: string[];
  rejected: boolean;
  code?: RejectionCode;
  note?: string;
}
const expected = JSON.parse(readFileSync(join(EVENTS, 'expected.json'), 'utf8')) as Record<string, Expectation>;
const sampleFiles = FOLDERS.flatMap((folder) => readdirSync(join(EVENTS, folder)).map((f) => `${folder}/${f}`)).sort();
const eventFiles = sampleFiles.filter((f) => !f.startsWith('invalid/'));
const text = (file: string) => readFileSync(join(EVENTS, file), 'utf8');
const normalized = (file: string): ChangeEvent => {
  const result = normalizeText(text(file));
  if (result.rejected) throw new Error(`${file} was rejected: ${result.reason}`);
  return result.event;
};

describe('events/expected.json', () => {
  it('has exactly one entry per sample file', () => {
    expect(Object.keys(expected).sort()).toEqual(sampleFiles);
  });

  it('names only known rules, and at least one for every positive sample', () => {
    for (const [file, e] of Object.entries(expected)) {
      for (const rule of e.rules) expect(RULE_IDS).toContain(rule);
      if (file.startsWith('positive/')) expect(e.rules.length).toBeGreaterThan(0);
      expect(e.rejected).toBe(file.startsWith('invalid/'));
    }
  });
});

describe.each(sampleFiles)('%s', (file) => {
  it('normalizes, or is rejected with the expected code', () => {
    const result = normalizeText(text(file));
    const e = expected[file]!;
    if (e.rejected) {
      expect(result).toMatchObject({ rejected: true, code: e.code });
    } else {
      expect(result.rejected).toBe(false);
    }
  });
});

describe.each(eventFiles)('%s', (file) => {
  const envelope = JSON.parse(text(file)) as Record<string, unknown>;

  it('is an exact EventBridge envelope in account 111122223333, eu-west-1', () => {
    expect(Object.keys(envelope).sort()).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
    expect(envelope).toMatchObject({ version: '0', account: '111122223333', region: 'eu-west-1', source: expect.stringMatching(/^aws\./) });
    expect(Array.isArray(envelope['resources'])).toBe(true);
    expect(envelope['time']).toMatch(/^2026-11-20T09:/);
  });

  it('keeps the CloudTrail record or Config detail as raw', () => {
    const event = normalized(file);
    const detail = envelope['detail'] as Record<string, unknown>;
    const raw = event.raw as Record<string, unknown>;
    if (event.origin === 'cloudtrail') {
      expect(raw['eventID']).toBe(detail['eventID']);
      expect(raw['requestParameters']).toEqual(detail['requestParameters']);
      expect(event.id).toBe(detail['eventID']);
    } else {
      expect(raw['messageType']).toBe(detail['messageType']);
    }
  });

  it('names only instances, groups and images that the account snapshot describes', async () => {
    const reader = new SnapshotContextReader(loadSnapshotFile(join(EVENTS, 'account-snapshot.json')));
    const event = normalized(file);
    for (const ref of event.resources) {
      const lookup =
        ref.type === 'instance' ? await reader.instance(ref.id) : ref.type === 'security-group' ? await reader.securityGroup(ref.id) : ref.type === 'image' ? await reader.image(ref.id) : undefined;
      if (lookup !== undefined) expect({ ref, status: lookup.status }).toEqual({ ref, status: 'found' });
    }
  });
});

describe('what the samples show', () => {
  it('uses exactly the pipeline and stack service role ARNs the sample policy trusts', () => {
    expect(normalized('negative/security-group-change-by-pipeline-role.json').actor).toMatchObject({ issuerArn: 'arn:aws:iam::111122223333:role/pipeline-deploy' });
    expect(normalized('negative/security-group-change-by-cloudformation-as-pipeline-role.json').actor).toMatchObject({
      issuerArn: 'arn:aws:iam::111122223333:role/pipeline-deploy',
      invokedBy: 'cloudformation.amazonaws.com',
    });
    expect(normalized('negative/security-group-change-by-cloudformation-service-role.json').actor).toMatchObject({
      issuerArn: 'arn:aws:iam::111122223333:role/cfn-service-role',
      invokedBy: 'cloudformation.amazonaws.com',
    });
    for (const file of ['negative/driftwarden-revokes-offending-rule.json', 'negative/driftwarden-isolates-instance.json']) {
      expect(normalized(file).actor.issuerArn).toBe('arn:aws:iam::111122223333:role/driftwarden-responder');
    }
  });

  it('shows the whole internet in both address families and both request shapes', () => {
    const cidrs = (file: string) => {
      const change = normalized(file).change;
      return change.kind === 'security-group' ? change.rules.map((r) => r.cidrIpv4 ?? r.cidrIpv6) : [];
    };
    expect(cidrs('positive/admin-port-ssh-open-to-world.json')).toEqual(['0.0.0.0/0']);
    expect(cidrs('positive/admin-port-rdp-open-to-ipv6-world.json')).toEqual(['::/0']);
    expect(cidrs('positive/admin-port-ssh-cli-shorthand.json')).toEqual(['0.0.0.0/0']);
    expect(cidrs('positive/admin-port-modify-security-group-rule-to-rdp-world.json')).toEqual(['0.0.0.0/0']);
  });

  it('shows failed calls as failures, read-only calls as read-only, and the oversized Config item as oversized', () => {
    expect(normalized('negative/failed-ssh-open-unauthorized.json').failure?.errorCode).toBe('Client.UnauthorizedOperation');
    expect(normalized('negative/failed-ssh-open-duplicate-rule.json').failure?.errorCode).toBe('Client.InvalidPermission.Duplicate');
    expect(normalized('negative/read-only-describe-instances.json').readOnly).toBe(true);
    expect(normalized('negative/read-only-describe-security-groups.json').readOnly).toBe(true);
    expect(normalized('negative/oversized-config-security-group-item.json').change).toMatchObject({ kind: 'config-item', oversized: true });
  });

  it('launches the unapproved AMI from the launch template the snapshot records', async () => {
    const change = normalized('positive/unapproved-ami-run-instances-from-launch-template.json').change;
    expect(change).toMatchObject({ kind: 'instance-launch', imageId: 'ami-0fedcba9876543210', launchTemplate: { id: 'lt-0123456789abcdef0' } });
    const reader = new SnapshotContextReader(loadSnapshotFile(join(EVENTS, 'account-snapshot.json')));
    expect(await reader.image('ami-0fedcba9876543210')).toMatchObject({ status: 'found', value: { ownerId: '999988887777' } });
    expect(await reader.approvedAmiIds('/driftwarden/golden-amis/')).toEqual({ status: 'found', value: ['ami-0a1b2c3d4e5f60001', 'ami-0a1b2c3d4e5f60002'] });
  });
});
