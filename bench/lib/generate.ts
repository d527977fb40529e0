/**
 * A deterministic, realistic CloudTrail archive, laid out the way CloudTrail delivers it to S3:
 *
 *   AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz
 *
 * each file a gzipped `{"Records":[...]}`. Most records are read-only noise (Describe*, Get*,
 * List*, S3 data reads, AssumeRole), about 2% are writes: security-group and instance changes,
 * mostly by the trusted pipeline, a few by people (some world-open admin ports), and a share
 * of failed calls, as a real account shows. The same seed always gives the same bytes, so a
 * benchmark run can be compared with the last one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ArchiveOptions {
  /** Where the AWSLogs/ tree goes. */
  root: string;
  /** Number of log files. Default 1,000. */
  files?: number;
  /** Records in all, spread evenly over the files. Default 1,000,000. */
  records?: number;
  /** Fraction of records that are writes. Default 0.02. */
  writeFraction?: number;
  /** PRNG seed. Default 20261120. */
  seed?: number;
  /** Account whose trail this is. Default the sample account 111122223333. */
  accountId?: string;
  /** Regions the files are spread over. Default eu-west-1 (3 of 4 files) and us-east-1. */
  regions?: string[];
  /** Time of the first file. Default 2026-11-18T00:00:00Z. */
  start?: Date;
}

export interface ArchiveSummary {
  files: string[];
  records: number;
  writes: number;
  compressedBytes: number;
  uncompressedBytes: number;
}

export const DEFAULT_SEED = 20261120;

/** mulberry32: small, fast, and the same on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

class Gen {
  constructor(readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += HEX[this.int(16)];
    return s;
  }
  alnum(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += ALNUM[this.int(ALNUM.length)];
    return s;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${HEX[8 + this.int(4)]}${this.hex(3)}-${this.hex(12)}`;
  }
}

interface Actor {
  userIdentity: Record<string, unknown>;
  sourceIPAddress: string;
  userAgent: string;
}

function actors(account: string): { readers: Actor[]; pipeline: Actor; people: Actor[]; cfn: Actor } {
  const role = (name: string, session: string, agent: string, ip: string): Actor => ({
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE${name.toUpperCase().replace(/[^A-Z]/g, '').slice(0, 8)}:${session}`,
      arn: `arn:aws:sts::${account}:assumed-role/${name}/${session}`,
      accountId: account,
      accessKeyId: `ASIAEXAMPLE${name.toUpperCase().replace(/[^A-Z]/g, '').padEnd(9, 'X').slice(0, 9)}`,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: `AROAEXAMPLE${name.length}`, arn: `arn:aws:iam::${account}:role/${name}`, accountId: account, userName: name },
        attributes: { creationDate: '2026-11-18T00:00:00Z', mfaAuthenticated: 'false' },
      },
    },
    sourceIPAddress: ip,
    userAgent: agent,
  });
  const user = (name: string, ip: string): Actor => ({
    userIdentity: {
      type: 'IAMUser',
      principalId: `AIDAEXAMPLE${name.toUpperCase()}00001`,
      arn: `arn:aws:iam::${account}:user/${name}`,
      accountId: account,
      accessKeyId: `AKIAEXAMPLE${name.toUpperCase()}0001`.slice(0, 20),
      userName: name,
    },
    sourceIPAddress: ip,
    userAgent: 'aws-cli/2.22.4 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe',
  });
  return {
    readers: [
      role('monitoring-collector', 'i-0abc00000000monitor', 'aws-sdk-go-v2/1.32.6 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.193.0', '10.0.12.31'),
      role('security-scanner', 'scanner-session', 'Boto3/1.35.80 md/Botocore#1.35.80 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.7 exec-env/AWS_Lambda_python3.12', '10.0.40.7'),
      role('AWSServiceRoleForConfig', 'AWSConfig-Describe', 'config.amazonaws.com', 'config.amazonaws.com'),
      role('app-runtime', 'i-0a1b2c3d4e5f60001', 'aws-sdk-java/2.29.29 Linux/6.1 OpenJDK_64-Bit_Server_VM/21.0.5', '10.0.1.15'),
      user('alice', '203.0.113.10'),
    ],
    pipeline: role('pipeline-deploy', 'codepipeline-release', 'cloudformation.amazonaws.com', 'cloudformation.amazonaws.com'),
    cfn: role('cfn-service-role', 'AWSCloudFormation', 'cloudformation.amazonaws.com', 'cloudformation.amazonaws.com'),
    people: [user('alice', '203.0.113.10'), user('bob', '198.51.100.23')],
  };
}

interface Call {
  eventSource: string;
  eventName: string;
  requestParameters: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  resources?: Record<string, unknown>[];
  eventCategory?: 'Management' | 'Data';
}

const SGS = ['sg-0a1b2c3d4e5f60001', 'sg-0a1b2c3d4e5f60002', 'sg-0a1b2c3d4e5f60003', 'sg-0123456789abcdef0'];
const INSTANCES = ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0123456789abcdef0', 'i-0fedcba9876543210'];

function readCall(g: Gen, account: string, region: string): Call {
  const r = g.random();
  if (r < 0.22) {
    return { eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', requestParameters: { instancesSet: {}, filterSet: { items: [{ name: 'instance-state-name', valueSet: { items: [{ value: 'running' }] } }] } } };
  }
  if (r < 0.34) return { eventSource: 'ec2.amazonaws.com', eventName: 'DescribeSecurityGroups', requestParameters: { securityGroupSet: {}, securityGroupIdSet: { items: [{ groupId: g.pick(SGS) }] }, filterSet: {} } };
  if (r < 0.42) return { eventSource: 'ec2.amazonaws.com', eventName: 'DescribeNetworkInterfaces', requestParameters: { networkInterfaceIdSet: {}, filterSet: { items: [{ name: 'vpc-id', valueSet: { items: [{ value: 'vpc-0a1b2c3d4e5f60000' }] } }] } } };
  if (r < 0.62) {
    const bucket = g.pick(['app-assets-prod', 'logs-archive-111122223333', 'build-artifacts']);
    const key = `${g.pick(['static', 'uploads', 'builds'])}/${g.hex(8)}/${g.alnum(10).toLowerCase()}.${g.pick(['js', 'png', 'json', 'zip'])}`;
    return {
      eventSource: 's3.amazonaws.com',
      eventName: g.pick(['GetObject', 'HeadObject']),
      eventCategory: 'Data',
      requestParameters: { bucketName: bucket, Host: `${bucket}.s3.${region}.amazonaws.com`, key },
      responseElements: null,
      resources: [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
        { accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
      ],
    };
  }
  if (r < 0.74) {
    return {
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      requestParameters: { roleArn: `arn:aws:iam::${account}:role/app-runtime`, roleSessionName: g.pick(INSTANCES), durationSeconds: 3600 },
      responseElements: { credentials: { accessKeyId: `ASIA${g.alnum(16)}`, sessionToken: g.alnum(120), expiration: 'Nov 18, 2026, 1:00:00 PM' }, assumedRoleUser: { assumedRoleId: `AROAEXAMPLE:${g.hex(8)}`, arn: `arn:aws:sts::${account}:assumed-role/app-runtime/${g.hex(8)}` } },
      resources: [{ accountId: account, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${account}:role/app-runtime` }],
    };
  }
  if (r < 0.82) return { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: g.pick(['/app/prod/db-host', '/driftwarden/golden-amis/web', '/app/prod/feature-flags']), withDecryption: false } };
  if (r < 0.9) return { eventSource: 'cloudformation.amazonaws.com', eventName: 'DescribeStacks', requestParameters: { stackName: g.pick(['web-prod', 'api-prod', 'driftwarden']) } };
  if (r < 0.95) return { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/${g.uuid()}` }] };
  return { eventSource: 'logs.amazonaws.com', eventName: 'DescribeLogStreams', requestParameters: { logGroupName: `/aws/lambda/${g.pick(['api-handler', 'driftwarden-responder'])}`, descending: true, orderBy: 'LastEventTime' } };
}

function permission(port: number, cidr: string, description: string): Record<string, unknown> {
  return { ipProtocol: 'tcp', fromPort: port, toPort: port, groups: {}, ipRanges: { items: [{ cidrIp: cidr, description }] }, ipv6Ranges: {}, prefixListIds: {} };
}

function writeCall(g: Gen, account: string): Call {
  const r = g.random();
  if (r < 0.45) {
    const groupId = g.pick(SGS);
    const open = g.random() < 0.1;
    const port = open ? g.pick([22, 3389]) : g.pick([443, 8080, 5432]);
    const cidr = open ? '0.0.0.0/0' : `10.${g.int(255)}.0.0/16`;
    return {
      eventSource: 'ec2.amazonaws.com',
      eventName: 'AuthorizeSecurityGroupIngress',
      requestParameters: { groupId, ipPermissions: { items: [permission(port, cidr, open ? 'temp access' : 'app traffic')] } },
      responseElements: {
        requestId: g.uuid(),
        _return: true,
        securityGroupRuleSet: { items: [{ groupOwnerId: account, groupId, securityGroupRuleId: `sgr-${g.hex(17)}`, isEgress: false, ipProtocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: cidr }] },
      },
    };
  }
  if (r < 0.6) {
    const groupId = g.pick(SGS);
    return { eventSource: 'ec2.amazonaws.com', eventName: 'RevokeSecurityGroupIngress', requestParameters: { groupId, securityGroupRuleIds: { items: [{ securityGroupRuleId: `sgr-${g.hex(17)}` }] } }, responseElements: { requestId: g.uuid(), _return: true } };
  }
  if (r < 0.8) {
    const instanceId = g.pick(INSTANCES);
    return { eventSource: 'ec2.amazonaws.com', eventName: 'CreateTags', requestParameters: { resourcesSet: { items: [{ resourceId: instanceId }] }, tagSet: { items: [{ key: 'CostCenter', value: `cc-${g.int(90) + 10}` }] } }, responseElements: { requestId: g.uuid(), _return: true } };
  }
  if (r < 0.92) {
    const instanceId = g.pick(INSTANCES);
    return { eventSource: 'ec2.amazonaws.com', eventName: 'ModifyInstanceAttribute', requestParameters: { instanceId, instanceType: { value: g.pick(['m7i.large', 'm7i.xlarge', 't3.medium']) } }, responseElements: { requestId: g.uuid(), _return: true } };
  }
  return { eventSource: 'ssm.amazonaws.com', eventName: 'PutParameter', requestParameters: { name: '/app/prod/feature-flags', type: 'String', overwrite: true }, responseElements: { version: g.int(400) + 1, tier: 'Standard' } };
}

function record(g: Gen, account: string, region: string, time: Date, write: boolean, people: ReturnType<typeof actors>): Record<string, unknown> {
  const call = write ? writeCall(g, account) : readCall(g, account, region);
  // Writes: three in four by the pipeline (through CloudFormation), the rest by people.
  const actor = write ? (g.random() < 0.75 ? g.pick([people.pipeline, people.cfn]) : g.pick(people.people)) : g.pick(people.readers);
  const failed = g.random() < (write ? 0.05 : 0.01);
  const rec: Record<string, unknown> = {
    eventVersion: '1.10',
    userIdentity: actor.userIdentity,
    eventTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: call.eventSource,
    eventName: call.eventName,
    awsRegion: region,
    sourceIPAddress: actor.sourceIPAddress,
    userAgent: actor.userAgent,
  };
  if (failed) {
    rec.errorCode = write ? 'Client.UnauthorizedOperation' : 'AccessDenied';
    rec.errorMessage = `You are not authorized to perform this operation. User: ${String(actor.userIdentity.arn)} is not authorized to perform: ${call.eventSource.split('.')[0]}:${call.eventName}`;
  }
  rec.requestParameters = call.requestParameters;
  rec.responseElements = failed ? null : (call.responseElements ?? null);
  if (actor.userIdentity.arn && String(actor.sourceIPAddress).endsWith('amazonaws.com')) rec.invokedBy = actor.sourceIPAddress;
  rec.requestID = g.uuid();
  rec.eventID = g.uuid();
  rec.readOnly = !write;
  if (call.resources) rec.resources = call.resources;
  rec.eventType = 'AwsApiCall';
  rec.managementEvent = call.eventCategory !== 'Data';
  rec.recipientAccountId = account;
  rec.eventCategory = call.eventCategory ?? 'Management';
  rec.tlsDetails = { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${call.eventSource.split('.')[0]}.${region}.amazonaws.com` };
  return rec;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The S3 key CloudTrail gives a log file delivered at `time`. */
export function logFileKey(account: string, region: string, time: Date, random: string): string {
  const y = time.getUTCFullYear();
  const m = pad(time.getUTCMonth() + 1);
  const d = pad(time.getUTCDate());
  const stamp = `${y}${m}${d}T${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}Z`;
  return `AWSLogs/${account}/CloudTrail/${region}/${y}/${m}/${d}/${account}_CloudTrail_${region}_${stamp}_${random}.json.gz`;
}

/** Writes the archive; returns what it wrote. Files are 5 minutes apart per region, as CloudTrail delivers. */
export function generateArchive(options: ArchiveOptions): ArchiveSummary {
  const files = options.files ?? 1000;
  const total = options.records ?? 1_000_000;
  const writeFraction = options.writeFraction ?? 0.02;
  const account = options.accountId ?? '111122223333';
  const regions = options.regions ?? ['eu-west-1', 'eu-west-1', 'eu-west-1', 'us-east-1'];
  const start = (options.start ?? new Date('2026-11-18T00:00:00Z')).getTime();
  const g = new Gen(seededRandom(options.seed ?? DEFAULT_SEED));
  const cast = actors(account);
  const summary: ArchiveSummary = { files: [], records: 0, writes: 0, compressedBytes: 0, uncompressedBytes: 0 };

  for (let f = 0; f < files; f++) {
    const count = Math.floor(((f + 1) * total) / files) - Math.floor((f * total) / files);
    const region = regions[f % regions.length];
    const delivered = new Date(start + Math.floor(f / regions.length) * 5 * 60_000 + 5 * 60_000);
    const records: Record<string, unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const time = new Date(delivered.getTime() - 5 * 60_000 + Math.floor((i / count) * 5 * 60_000));
      const write = g.random() < writeFraction;
      if (write) summary.writes++;
      records.push(record(g, account, region, time, write, cast));
    }
    const text = JSON.stringify({ Records: records });
    const gz = gzipSync(text);
    const key = logFileKey(account, region, delivered, g.alnum(16));
    const path = join(options.root, key);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, gz);
    summary.files.push(path);
    summary.records += count;
    summary.compressedBytes += gz.length;
    summary.uncompressedBytes += Buffer.byteLength(text);
  }
  return summary;
}
