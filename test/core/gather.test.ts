import { found, notFound, unknown, type ContextReader, type ImageContext, type InstanceContext, type Lookup, type SecurityGroupContext } from '../../functions/core/context';
import type { ContextRequest } from '../../functions/core/context-needs';
import { gatherContext } from '../../functions/core/gather';
import { aGroup, anInstance, NOW } from './fixtures/builders';

const request = (extra: Partial<ContextRequest> = {}): ContextRequest => ({
  instanceIds: [],
  securityGroupIds: [],
  imageIds: [],
  exemptionResourceIds: [],
  exemptionTag: 'driftwarden:exempt-until',
  ...extra,
});

function readerWith(parts: {
  instances?: Record<string, Lookup<InstanceContext> | Error>;
  groups?: Record<string, Lookup<SecurityGroupContext> | Error>;
  amis?: Lookup<string[]> | Error;
}): ContextReader & { calls: string[] } {
  const calls: string[] = [];
  const answer = async <T>(value: Lookup<T> | Error | undefined): Promise<Lookup<T>> => {
    if (value instanceof Error) throw value;
    return value ?? notFound();
  };
  return {
    calls,
    instance: (id) => {
      calls.push(`instance ${id}`);
      return answer(parts.instances?.[id]);
    },
    securityGroup: (id) => {
      calls.push(`group ${id}`);
      return answer(parts.groups?.[id]);
    },
    image: (id) => {
      calls.push(`image ${id}`);
      return Promise.resolve(found({ imageId: id, ownerId: '444455556666' }));
    },
    approvedAmiIds: (path) => {
      calls.push(`amis ${path}`);
      return answer(parts.amis);
    },
    tagWriter: (id, key) => {
      calls.push(`writer ${id} ${key}`);
      return Promise.resolve(found({ arn: 'arn:aws:iam::111122223333:role/break-glass-oncall', time: NOW }));
    },
  };
}

describe('gatherContext', () => {
  it('reads every requested lookup and hands the time through', async () => {
    const reader = readerWith({ instances: { 'i-0aaa': found(anInstance('i-0aaa')) }, groups: { 'sg-0abc': found(aGroup('sg-0abc')) }, amis: found(['ami-0a1b2c3d4e5f60001']) });
    const context = await gatherContext(
      request({ instanceIds: ['i-0aaa', 'i-0gone'], securityGroupIds: ['sg-0abc'], imageIds: ['ami-0x'], approvedAmiPath: '/golden/' }),
      reader,
      NOW,
    );
    expect(context.instances).toEqual({ 'i-0aaa': found(anInstance('i-0aaa')), 'i-0gone': notFound() });
    expect(context.securityGroups).toEqual({ 'sg-0abc': found(aGroup('sg-0abc')) });
    expect(context.images).toEqual({ 'ami-0x': found({ imageId: 'ami-0x', ownerId: '444455556666' }) });
    expect(context.approvedAmiIds).toEqual(found(['ami-0a1b2c3d4e5f60001']));
    expect(context.now).toBe(NOW);
  });

  it('never throws: a reader that throws or rejects becomes unknown, with the error message', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: ec2:DescribeInstances'), { name: 'UnauthorizedOperation' });
    const reader = readerWith({ instances: { 'i-0aaa': denied }, groups: { 'sg-0abc': new Error('socket hang up') }, amis: new Error('ParameterNotFound') });
    const context = await gatherContext(request({ instanceIds: ['i-0aaa'], securityGroupIds: ['sg-0abc'], approvedAmiPath: '/golden/' }), reader, NOW);
    expect(context.instances['i-0aaa']).toEqual(unknown('instance i-0aaa: UnauthorizedOperation: User is not authorized to perform: ec2:DescribeInstances'));
    expect(context.securityGroups['sg-0abc']).toEqual(unknown('security group sg-0abc: socket hang up'));
    expect(context.approvedAmiIds).toEqual(unknown('approved AMIs under /golden/: ParameterNotFound'));
  });

  it('a reader that answers nothing usable is unknown too', async () => {
    const reader = readerWith({});
    reader.instance = () => Promise.resolve(undefined as unknown as Lookup<InstanceContext>);
    const context = await gatherContext(request({ instanceIds: ['i-0aaa'] }), reader, NOW);
    expect(context.instances['i-0aaa']).toEqual(unknown('instance i-0aaa: the context reader returned no usable answer'));
  });

  it('looks up exemption writers only for resources that carry the exemption tag, in a second round', async () => {
    const tagged = anInstance('i-0aaa', { tags: { 'driftwarden:exempt-until': '2026-03-11' } });
    const reader = readerWith({
      instances: { 'i-0aaa': found(tagged), 'i-0bbb': found(anInstance('i-0bbb')) },
      groups: { 'sg-0abc': found(aGroup('sg-0abc', { 'driftwarden:exempt-until': '2026-03-11' })) },
    });
    const context = await gatherContext(
      request({ instanceIds: ['i-0aaa', 'i-0bbb'], securityGroupIds: ['sg-0abc'], exemptionResourceIds: ['i-0aaa', 'i-0bbb', 'sg-0abc'] }),
      reader,
      NOW,
    );
    expect(Object.keys(context.exemptionWriters).sort()).toEqual(['i-0aaa', 'sg-0abc']);
    expect(reader.calls.filter((c) => c.startsWith('writer'))).toEqual(['writer i-0aaa driftwarden:exempt-until', 'writer sg-0abc driftwarden:exempt-until']);
    // Round one finished before round two started.
    expect(reader.calls.findIndex((c) => c.startsWith('writer'))).toBeGreaterThan(reader.calls.lastIndexOf('group sg-0abc'));
  });

  it('runs the first round in parallel: every lookup starts before any finishes', async () => {
    const started: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = <T>(id: string, value: Lookup<T>) => async (): Promise<Lookup<T>> => {
      started.push(id);
      await gate;
      return value;
    };
    const reader: ContextReader = {
      instance: (id) => slow(id, found(anInstance(id)))(),
      securityGroup: (id) => slow(id, found(aGroup(id)))(),
      image: (id) => slow(id, notFound<ImageContext>())(),
      approvedAmiIds: (path) => slow(path, found([]))(),
      tagWriter: () => Promise.resolve(notFound()),
    };
    const pending = gatherContext(request({ instanceIds: ['i-1', 'i-2'], securityGroupIds: ['sg-1'], imageIds: ['ami-1'], approvedAmiPath: '/g/' }), reader, NOW);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started.sort()).toEqual(['/g/', 'ami-1', 'i-1', 'i-2', 'sg-1']);
    release();
    const context = await pending;
    expect(Object.keys(context.instances)).toEqual(['i-1', 'i-2']);
  });

  it('leaves approvedAmiIds undefined when no SSM path is requested', async () => {
    const context = await gatherContext(request(), readerWith({}), NOW);
    expect(context.approvedAmiIds).toBeUndefined();
    expect('approvedAmiIds' in context).toBe(false);
  });
});
