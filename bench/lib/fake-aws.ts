/**
 * A tiny local AWS for the time-to-containment benchmark: one HTTP server on 127.0.0.1 that
 * answers every call the responder makes, each after a fixed delay, and logs when each call
 * arrived and when it was answered.
 *
 * - The service is read from the SigV4 credential scope (`Credential=…/<region>/<service>/…`),
 *   so one AWS_ENDPOINT_URL serves every client.
 * - EC2 (query protocol, XML), SNS, CloudFormation, Auto Scaling and ELBv2 (query, XML) and
 *   SSM and CloudTrail (JSON) are answered from the account snapshot (events/account-snapshot.json),
 *   with the VPC's isolation group and allow-all group already in place and in shape.
 * - DynamoDB is passed through to dynalite (in memory), so conditional writes, counters and
 *   idempotency records behave as DynamoDB's do.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SnapshotInstance {
  instanceId: string;
  state: string;
  imageId?: string;
  vpcId?: string;
  subnetId?: string;
  launchTime?: string;
  keyName?: string;
  tags?: Record<string, string>;
  networkInterfaces?: { networkInterfaceId: string; groups: string[]; deviceIndex?: number }[];
  volumes?: { volumeId: string; deviceName?: string }[];
  terminationProtection?: boolean;
  shutdownBehavior?: string;
  iamInstanceProfileArn?: string;
}

export interface AccountSnapshot {
  accountId: string;
  region: string;
  instances?: SnapshotInstance[];
  securityGroups?: { groupId: string; groupName?: string; vpcId?: string; tags?: Record<string, string> }[];
  images?: { imageId: string; ownerId?: string; creationDate?: string; name?: string }[];
  ssmParameters?: Record<string, string>;
}

export interface CallRecord {
  service: string;
  action: string;
  /** A short description of the input (the resource acted on). */
  target: string;
  /** Milliseconds since the recorder's origin. */
  arrivedMs: number;
  completedMs: number;
  status: number;
}

export interface FakeAws {
  endpoint: string;
  calls: CallRecord[];
  /** Start a new measurement: clears the log and sets the time origin. */
  reset(): void;
  /** The time origin, process.hrtime.bigint() (monotonic, system-wide on Linux). */
  originNs(): bigint;
  close(): Promise<void>;
}

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const el = (name: string, value: string | number | boolean | undefined) => (value === undefined ? '' : `<${name}>${typeof value === 'string' ? xmlEscape(value) : String(value)}</${name}>`);
const items = (name: string, parts: string[]) => `<${name}>${parts.map((p) => `<item>${p}</item>`).join('')}</${name}>`;
const tagSet = (tags: Record<string, string> = {}) => items('tagSet', Object.entries(tags).map(([k, v]) => el('key', k) + el('value', v)));

/** Query-protocol parameters: `InstanceId.1=…` → list('InstanceId'). */
class QueryParams {
  constructor(readonly params: URLSearchParams) {}
  get(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }
  list(prefix: string): string[] {
    const out: string[] = [];
    for (let i = 1; this.params.has(`${prefix}.${i}`); i++) out.push(this.params.get(`${prefix}.${i}`)!);
    return out;
  }
  filters(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (let i = 1; this.params.has(`Filter.${i}.Name`); i++) out[this.params.get(`Filter.${i}.Name`)!] = this.list(`Filter.${i}.Value`);
    return out;
  }
}

interface Answer {
  status: number;
  body: string;
  contentType: string;
}

const ec2Ok = (action: string, inner: string): Answer => ({
  status: 200,
  contentType: 'text/xml;charset=UTF-8',
  body: `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${EC2_NS}"><requestId>${randomUUID()}</requestId>${inner}</${action}Response>`,
});
const ec2Error = (code: string, message: string): Answer => ({
  status: 400,
  contentType: 'text/xml;charset=UTF-8',
  body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
});
const queryOk = (ns: string, action: string, inner: string): Answer => ({
  status: 200,
  contentType: 'text/xml',
  body: `<${action}Response xmlns="${ns}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
});
const jsonOk = (value: unknown): Answer => ({ status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(value) });
const jsonError = (type: string, message: string): Answer => ({ status: 400, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: type, message }) });

/** The isolation and allow-all groups of a VPC, as driftwarden leaves them. */
function driftwardenGroups(vpcId: string) {
  const suffix = vpcId.replace(/^vpc-/, '').slice(0, 10);
  return {
    isolation: { groupId: `sg-0150${suffix}`.slice(0, 20), groupName: `driftwarden-isolation-${vpcId}`, vpcId, tags: { Name: `driftwarden-isolation-${vpcId}`, 'driftwarden:isolation': 'true' } },
    untrack: { groupId: `sg-0011${suffix}`.slice(0, 20), groupName: `driftwarden-untrack-${vpcId}`, vpcId, tags: { Name: `driftwarden-untrack-${vpcId}`, 'driftwarden:untrack': 'true' } },
  };
}

function instanceXml(i: SnapshotInstance, accountId: string): string {
  const enis = (i.networkInterfaces ?? []).map(
    (n) =>
      el('networkInterfaceId', n.networkInterfaceId) +
      el('subnetId', i.subnetId) +
      el('vpcId', i.vpcId) +
      el('ownerId', accountId) +
      el('status', 'in-use') +
      items('groupSet', n.groups.map((g) => el('groupId', g) + el('groupName', g))) +
      `<attachment>${el('attachmentId', `eni-attach-${n.networkInterfaceId.slice(4)}`)}${el('deviceIndex', n.deviceIndex ?? 0)}${el('status', 'attached')}</attachment>`,
  );
  const volumes = (i.volumes ?? []).map((v) => el('deviceName', v.deviceName) + `<ebs>${el('volumeId', v.volumeId)}${el('status', 'attached')}${el('deleteOnTermination', true)}</ebs>`);
  const codes: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };
  return (
    el('instanceId', i.instanceId) +
    el('imageId', i.imageId) +
    `<instanceState>${el('code', codes[i.state] ?? 16)}${el('name', i.state)}</instanceState>` +
    el('keyName', i.keyName) +
    el('instanceType', 'm7i.large') +
    el('launchTime', i.launchTime) +
    el('subnetId', i.subnetId) +
    el('vpcId', i.vpcId) +
    (i.iamInstanceProfileArn ? `<iamInstanceProfile>${el('arn', i.iamInstanceProfileArn)}${el('id', 'AIPAEXAMPLE')}</iamInstanceProfile>` : '') +
    items('blockDeviceMapping', volumes) +
    items('networkInterfaceSet', enis) +
    tagSet(i.tags)
  );
}

function groupXml(g: { groupId: string; groupName?: string; vpcId?: string; tags?: Record<string, string> }, accountId: string): string {
  return el('ownerId', accountId) + el('groupId', g.groupId) + el('groupName', g.groupName ?? g.groupId) + el('groupDescription', g.groupName ?? g.groupId) + el('vpcId', g.vpcId) + (g.groupName?.startsWith('driftwarden-untrack-') ? `<ipPermissions><item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges><item><cidrIpv6>::/0</cidrIpv6></item></ipv6Ranges></item></ipPermissions><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges><item><cidrIpv6>::/0</cidrIpv6></item></ipv6Ranges></item></ipPermissionsEgress>` : '<ipPermissions/><ipPermissionsEgress/>') + tagSet(g.tags);
}

function ruleXml(groupId: string, accountId: string, id: string, egress: boolean, cidr: { v4?: string; v6?: string }): string {
  return el('securityGroupRuleId', id) + el('groupId', groupId) + el('groupOwnerId', accountId) + el('isEgress', egress) + el('ipProtocol', '-1') + el('fromPort', -1) + el('toPort', -1) + el('cidrIpv4', cidr.v4) + el('cidrIpv6', cidr.v6);
}

function ec2(action: string, q: QueryParams, snap: AccountSnapshot): Answer {
  const account = snap.accountId;
  const instances = new Map((snap.instances ?? []).map((i) => [i.instanceId, i]));
  const vpcs = new Set([...(snap.instances ?? []).map((i) => i.vpcId), ...(snap.securityGroups ?? []).map((g) => g.vpcId)].filter((v): v is string => Boolean(v)));
  const ours = [...vpcs].flatMap((v) => {
    const g = driftwardenGroups(v);
    return [g.isolation, g.untrack];
  });
  switch (action) {
    case 'DescribeInstances': {
      const ids = q.list('InstanceId');
      const found = ids.map((id) => instances.get(id)).filter((i): i is SnapshotInstance => Boolean(i));
      if (ids.length > 0 && found.length < ids.length) return ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${ids.join(', ')}' do not exist`);
      return ec2Ok(action, items('reservationSet', found.map((i) => el('reservationId', `r-${i.instanceId.slice(2)}`) + el('ownerId', account) + items('instancesSet', [instanceXml(i, account)]))));
    }
    case 'DescribeInstanceAttribute': {
      const i = instances.get(q.get('InstanceId') ?? '');
      if (!i) return ec2Error('InvalidInstanceID.NotFound', `The instance ID '${q.get('InstanceId')}' does not exist`);
      const attribute = q.get('Attribute');
      const value = attribute === 'disableApiTermination' ? String(i.terminationProtection ?? false) : (i.shutdownBehavior ?? 'stop');
      return ec2Ok(action, el('instanceId', i.instanceId) + `<${attribute}>${el('value', value)}</${attribute}>`);
    }
    case 'DescribeSecurityGroups': {
      const all = [...(snap.securityGroups ?? []), ...ours];
      const ids = q.list('GroupId');
      const f = q.filters();
      let groups = ids.length > 0 ? all.filter((g) => ids.includes(g.groupId)) : all;
      if (f['group-name']) groups = groups.filter((g) => f['group-name'].includes(g.groupName ?? ''));
      if (f['vpc-id']) groups = groups.filter((g) => f['vpc-id'].includes(g.vpcId ?? ''));
      if (ids.length > 0 && groups.length < ids.length) return ec2Error('InvalidGroup.NotFound', `The security group '${ids.join(', ')}' does not exist`);
      return ec2Ok(action, items('securityGroupInfo', groups.map((g) => groupXml(g, account))));
    }
    case 'DescribeSecurityGroupRules': {
      const groupIds = q.filters()['group-id'] ?? [];
      const rules: string[] = [];
      for (const v of vpcs) {
        const { untrack } = driftwardenGroups(v);
        if (!groupIds.includes(untrack.groupId)) continue;
        rules.push(
          ruleXml(untrack.groupId, account, 'sgr-0a11000000000001', false, { v4: '0.0.0.0/0' }),
          ruleXml(untrack.groupId, account, 'sgr-0a11000000000002', false, { v6: '::/0' }),
          ruleXml(untrack.groupId, account, 'sgr-0a11000000000003', true, { v4: '0.0.0.0/0' }),
          ruleXml(untrack.groupId, account, 'sgr-0a11000000000004', true, { v6: '::/0' }),
        );
      }
      // The isolation group has no rule at all, as driftwarden keeps it.
      return ec2Ok(action, items('securityGroupRuleSet', rules));
    }
    case 'DescribeImages': {
      const ids = q.list('ImageId');
      const images = (snap.images ?? []).filter((im) => ids.length === 0 || ids.includes(im.imageId));
      return ec2Ok(action, items('imagesSet', images.map((im) => el('imageId', im.imageId) + el('imageOwnerId', im.ownerId) + el('creationDate', im.creationDate) + el('name', im.name) + el('imageState', 'available'))));
    }
    case 'DescribeSnapshots':
      return ec2Ok(action, '<snapshotSet/>');
    case 'CreateSnapshot':
      return ec2Ok(action, el('snapshotId', `snap-${randomUUID().replace(/-/g, '').slice(0, 17)}`) + el('volumeId', q.get('VolumeId')) + el('status', 'pending') + el('startTime', new Date().toISOString()) + el('progress', '') + el('ownerId', account) + el('volumeSize', 8) + el('encrypted', true));
    case 'CreateSecurityGroup':
      return ec2Ok(action, el('groupId', `sg-0c${randomUUID().replace(/-/g, '').slice(0, 15)}`) + '<return>true</return>');
    case 'RevokeSecurityGroupIngress':
    case 'RevokeSecurityGroupEgress':
    case 'AuthorizeSecurityGroupIngress':
    case 'AuthorizeSecurityGroupEgress':
    case 'ModifyNetworkInterfaceAttribute':
    case 'ModifyInstanceAttribute':
    case 'CreateTags':
    case 'DeleteTags':
    case 'TerminateInstances':
      return ec2Ok(action, '<return>true</return>');
    default:
      return ec2Error('UnsupportedOperation', `the benchmark's fake EC2 does not answer ${action}`);
  }
}

function ssm(action: string, body: Record<string, unknown>, snap: AccountSnapshot): Answer {
  const params = snap.ssmParameters ?? {};
  if (action === 'GetParameter') {
    const name = String(body.Name ?? '');
    if (!(name in params)) return jsonError('ParameterNotFound', `parameter ${name} not found`);
    return jsonOk({ Parameter: { Name: name, Type: 'String', Value: params[name], Version: 1, ARN: `arn:aws:ssm:${snap.region}:${snap.accountId}:parameter${name}` } });
  }
  if (action === 'GetParametersByPath') {
    const path = String(body.Path ?? '');
    const found = Object.entries(params)
      .filter(([n]) => n.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(([Name, Value]) => ({ Name, Value, Type: 'String', Version: 1 }));
    return jsonOk({ Parameters: found });
  }
  return jsonError('ValidationException', `the benchmark's fake SSM does not answer ${action}`);
}

function query(service: string, action: string, q: QueryParams, snap: AccountSnapshot): Answer {
  switch (service) {
    case 'sns':
      if (action === 'Publish') return queryOk('http://sns.amazonaws.com/doc/2010-03-31/', action, el('MessageId', randomUUID()));
      break;
    case 'cloudformation': {
      const ns = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
      if (action === 'DescribeStacks') {
        const name = q.get('StackName') ?? '';
        const stack =
          el('StackName', name) +
          el('StackId', `arn:aws:cloudformation:${snap.region}:${snap.accountId}:stack/${name}/00000000-0000-4000-8000-000000000000`) +
          el('StackStatus', 'UPDATE_COMPLETE') +
          el('CreationTime', '2026-11-01T00:00:00Z') +
          `<Parameters><member>${el('ParameterKey', 'DriftwardenReplacementToken')}${el('ParameterValue', 'initial')}</member><member>${el('ParameterKey', 'ImageId')}${el('ParameterValue', 'ami-0a1b2c3d4e5f60001')}</member></Parameters>`;
        return queryOk(ns, action, `<Stacks><member>${stack}</member></Stacks>`);
      }
      if (action === 'UpdateStack') return queryOk(ns, action, el('StackId', `arn:aws:cloudformation:${snap.region}:${snap.accountId}:stack/${q.get('StackName')}/00000000-0000-4000-8000-000000000000`));
      return queryOk(ns, action, '');
    }
    case 'autoscaling': {
      const ns = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
      if (action === 'DescribeAutoScalingInstances') {
        const members = q
          .list('InstanceIds.member')
          .map((id) => (snap.instances ?? []).find((i) => i.instanceId === id))
          .filter((i): i is SnapshotInstance => Boolean(i?.tags?.['aws:autoscaling:groupName']))
          .map(
            (i) =>
              `<member>${el('InstanceId', i.instanceId)}${el('AutoScalingGroupName', i.tags!['aws:autoscaling:groupName'])}${el('AvailabilityZone', `${snap.region}a`)}${el('LifecycleState', 'InService')}${el('HealthStatus', 'HEALTHY')}${el('ProtectedFromScaleIn', false)}</member>`,
          );
        return queryOk(ns, action, `<AutoScalingInstances>${members.join('')}</AutoScalingInstances>`);
      }
      if (action === 'DetachInstances') {
        return queryOk(ns, action, `<Activities><member>${el('ActivityId', randomUUID())}${el('AutoScalingGroupName', q.get('AutoScalingGroupName'))}${el('Cause', 'detached')}${el('StartTime', new Date().toISOString())}${el('StatusCode', 'InProgress')}</member></Activities>`);
      }
      return queryOk(ns, action, '');
    }
    case 'elasticloadbalancing': {
      const ns = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
      if (action === 'DescribeTargetGroups') return queryOk(ns, action, '<TargetGroups/>');
      if (action === 'DescribeTargetHealth') return queryOk(ns, action, '<TargetHealthDescriptions/>');
      return queryOk(ns, action, '');
    }
    case 'sts':
      if (action === 'GetCallerIdentity') {
        return queryOk('https://sts.amazonaws.com/doc/2011-06-15/', action, el('Arn', `arn:aws:sts::${snap.accountId}:assumed-role/driftwarden-responder/bench`) + el('UserId', 'AROAEXAMPLE:bench') + el('Account', snap.accountId));
      }
      break;
  }
  return { status: 400, contentType: 'text/xml', body: `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the benchmark's fake ${service} does not answer ${action}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>` };
}

/** Serialises a target for the call log: the ids the call names. */
function describeTarget(service: string, q: QueryParams | undefined, json: Record<string, unknown> | undefined): string {
  if (q) {
    const ids = ['InstanceId', 'GroupId', 'NetworkInterfaceId', 'VolumeId', 'ResourceId', 'StackName', 'AutoScalingGroupName']
      .flatMap((k) => [q.get(k), ...q.list(k), ...q.list(`${k}s.member`)])
      .filter((v): v is string => Boolean(v));
    const f = q.filters();
    const filters = Object.entries(f).map(([k, v]) => `${k}=${v.join(',')}`);
    const attribute = q.get('Attribute') ?? (q.get('DisableApiTermination.Value') ? 'disableApiTermination' : q.get('InstanceInitiatedShutdownBehavior.Value') ? 'shutdownBehavior' : undefined);
    return [...new Set(ids), ...filters, ...(attribute ? [attribute] : [])].join(' ');
  }
  if (json) {
    if (service === 'dynamodb') {
      const key = json.Key as Record<string, Record<string, string>> | undefined;
      const item = json.Item as Record<string, Record<string, string>> | undefined;
      const k = key ?? item;
      const keyText = k ? Object.values(k).map((v) => Object.values(v)[0]).slice(0, 2).join('/') : '';
      const transact = Array.isArray(json.TransactItems) ? `${json.TransactItems.length} items` : '';
      return [keyText, transact].filter(Boolean).join(' ');
    }
    return String(json.Name ?? json.Path ?? '');
  }
  return '';
}

export interface FakeAwsOptions {
  snapshot: AccountSnapshot;
  /** Delay before each answer, ms. */
  delayMs: number;
  /** dynalite's endpoint, where DynamoDB calls are passed. */
  dynamodbEndpoint: string;
}

export async function startFakeAws(options: FakeAwsOptions): Promise<FakeAws> {
  const calls: CallRecord[] = [];
  let origin = process.hrtime.bigint();
  const now = () => Number(process.hrtime.bigint() - origin) / 1e6;
  const dynamo = new URL(options.dynamodbEndpoint);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const arrivedMs = now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const auth = req.headers.authorization ?? '';
    const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'unknown';
    const target = String(req.headers['x-amz-target'] ?? '');
    let action = target.split('.').pop() ?? '';
    let q: QueryParams | undefined;
    let json: Record<string, unknown> | undefined;
    if (target) {
      json = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } else {
      q = new QueryParams(new URLSearchParams(body.toString('utf8')));
      action = q.get('Action') ?? '';
    }
    const record: CallRecord = { service, action, target: describeTarget(service, q, json), arrivedMs, completedMs: 0, status: 0 };
    calls.push(record);
    await new Promise((resolve) => setTimeout(resolve, options.delayMs));

    if (service === 'dynamodb') {
      const proxied = request({ host: dynamo.hostname, port: dynamo.port, method: req.method, path: req.url, headers: { ...req.headers, host: dynamo.host } }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          record.status = up.statusCode ?? 500;
          record.completedMs = now();
          res.writeHead(up.statusCode ?? 500, up.headers);
          res.end(Buffer.concat(parts));
        });
      });
      proxied.on('error', (err) => {
        record.status = 500;
        record.completedMs = now();
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'InternalServerError', message: err.message }));
      });
      proxied.end(body);
      return;
    }

    let answer: Answer;
    if (service === 'ec2' && q) answer = ec2(action, q, options.snapshot);
    else if (service === 'ssm' && json) answer = ssm(action, json, options.snapshot);
    else if (service === 'cloudtrail' && json) answer = jsonOk({ Events: [] });
    else if (q) answer = query(service, action, q, options.snapshot);
    else answer = jsonError('UnknownOperationException', `the benchmark's fake AWS does not answer ${service} ${action}`);
    record.status = answer.status;
    record.completedMs = now();
    res.writeHead(answer.status, { 'content-type': answer.contentType, 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    reset() {
      calls.length = 0;
      origin = process.hrtime.bigint();
    },
    originNs: () => origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
