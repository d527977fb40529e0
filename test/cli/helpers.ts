import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { CliIo, InputStream } from '../../functions/cli/io';

export interface Captured {
  io: CliIo;
  stdout: () => string;
  stderr: () => string;
}

export function capture(options: { stdin?: string[]; stdinTTY?: boolean; stdoutTTY?: boolean; stderrTTY?: boolean; columns?: number; env?: NodeJS.ProcessEnv } = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const stdin = Readable.from(options.stdin ?? []) as unknown as InputStream;
  stdin.isTTY = options.stdinTTY ?? false;
  return {
    io: {
      stdout: { write: (s: string) => (out.push(s), true), isTTY: options.stdoutTTY ?? false, columns: options.columns ?? 120 },
      stderr: { write: (s: string) => (err.push(s), true), isTTY: options.stderrTTY ?? false, columns: 100 },
      stdin,
      env: options.env ?? {},
      now: () => new Date('2026-11-26T04:00:00Z'),
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

/** A CloudTrail record: SSH opened to the world on a security group. */
export function sshOpenRecord(eventId: string, groupId = 'sg-0abc1234abcd12345'): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLE',
      arn: 'arn:aws:iam::111122223333:user/alice',
      accountId: '111122223333',
      userName: 'alice',
    },
    eventTime: '2026-11-26T03:04:05Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'AuthorizeSecurityGroupIngress',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.7',
    userAgent: 'aws-cli/2',
    requestParameters: {
      groupId,
      ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] },
    },
    responseElements: {
      _return: true,
      securityGroupRuleSet: {
        items: [{ groupId, securityGroupRuleId: 'sgr-0123456789abcdef0', isEgress: false, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }],
      },
    },
    requestID: 'req',
    eventID: eventId,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
  };
}

/** A read-only call: no rule matches. */
export function describeRecord(eventId: string): Record<string, unknown> {
  return { ...sshOpenRecord(eventId), eventName: 'DescribeSecurityGroups', readOnly: true, requestParameters: {}, responseElements: null };
}

export function asEventBridge(record: Record<string, unknown>): Record<string, unknown> {
  return {
    version: '0',
    id: 'eb-1',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.ec2',
    account: '111122223333',
    time: '2026-11-26T03:04:06Z',
    region: 'eu-west-1',
    resources: [],
    detail: record,
  };
}

/**
 * A replay archive with every supported shape, and one file that is skipped:
 *   a-single.json         one EventBridge event                          (1 input)
 *   b-array.json          an array of two bare records                   (2 inputs)
 *   c-lines.jsonl         three lines: record, not JSON, record (+blank) (3 inputs)
 *   d-notes.txt           skipped with a warning
 *   e/nested/log.json.gz  a gzipped CloudTrail log file with two records (2 inputs)
 *   f-log.json            a CloudTrail log file {"Records": [...]}       (1 input)
 */
export function archive(): { dir: string; expectedSources: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'driftwarden-replay-'));
  writeFileSync(join(dir, 'a-single.json'), JSON.stringify(asEventBridge(sshOpenRecord('00000000-0000-4000-8000-000000000001'))));
  writeFileSync(join(dir, 'b-array.json'), JSON.stringify([describeRecord('00000000-0000-4000-8000-000000000002'), sshOpenRecord('00000000-0000-4000-8000-000000000003')]));
  writeFileSync(
    join(dir, 'c-lines.jsonl'),
    [JSON.stringify(sshOpenRecord('00000000-0000-4000-8000-000000000004')), '{not json', '', JSON.stringify(describeRecord('00000000-0000-4000-8000-000000000005'))].join('\n') + '\n',
  );
  writeFileSync(join(dir, 'd-notes.txt'), 'not an event');
  mkdirSync(join(dir, 'e', 'nested'), { recursive: true });
  writeFileSync(
    join(dir, 'e', 'nested', 'log.json.gz'),
    gzipSync(JSON.stringify({ Records: [sshOpenRecord('00000000-0000-4000-8000-000000000006'), describeRecord('00000000-0000-4000-8000-000000000007')] })),
  );
  writeFileSync(join(dir, 'f-log.json'), JSON.stringify({ Records: [{ hello: 'not a record' }] }));
  const expectedSources = [
    join(dir, 'a-single.json'),
    `${join(dir, 'b-array.json')}#0`,
    `${join(dir, 'b-array.json')}#1`,
    `${join(dir, 'c-lines.jsonl')}:1`,
    `${join(dir, 'c-lines.jsonl')}:2`,
    `${join(dir, 'c-lines.jsonl')}:4`,
    `${join(dir, 'e', 'nested', 'log.json.gz')}#0`,
    `${join(dir, 'e', 'nested', 'log.json.gz')}#1`,
    `${join(dir, 'f-log.json')}#0`,
  ];
  return { dir, expectedSources };
}
