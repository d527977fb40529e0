/**
 * Reads the context one event needs, through the read-only `ContextReader`. Never throws:
 * a lookup that fails becomes `unknown` with the error's message, and the plan fails closed
 * on it.
 *
 * Two round trips at most:
 * 1. instances, security groups, images and the approved-AMI path, all in parallel;
 * 2. who wrote the exemption tag, in parallel, only for the resources found in round 1 that
 *    carry it. Tag writers come from CloudTrail LookupEvents, which is slow and throttled
 *    (2 calls per second per account), so they are not looked up for every resource "just
 *    in case": nearly no resource carries an exemption.
 */
import { unknown, type ContextReader, type Lookup, type ResourceContext } from './context';
import type { ContextRequest } from './context-needs';

/** Runs one lookup; a throw, a rejection or a malformed answer becomes `unknown`. */
async function safely<T>(what: string, lookup: () => Promise<Lookup<T>>): Promise<Lookup<T>> {
  try {
    const result = await lookup();
    if (!result || typeof result !== 'object' || !['found', 'not-found', 'unknown'].includes((result as { status?: string }).status ?? '')) {
      return unknown(`${what}: the context reader returned no usable answer`);
    }
    return result;
  } catch (err) {
    const message = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
    return unknown(`${what}: ${message}`);
  }
}

async function lookupAll<T>(ids: string[], what: string, lookup: (id: string) => Promise<Lookup<T>>): Promise<Record<string, Lookup<T>>> {
  const entries = await Promise.all(ids.map(async (id) => [id, await safely(`${what} ${id}`, () => lookup(id))] as const));
  return Object.fromEntries(entries);
}

export async function gatherContext(request: ContextRequest, reader: ContextReader, now: string): Promise<ResourceContext> {
  const [instances, securityGroups, images, approvedAmiIds] = await Promise.all([
    lookupAll(request.instanceIds, 'instance', (id) => reader.instance(id)),
    lookupAll(request.securityGroupIds, 'security group', (id) => reader.securityGroup(id)),
    lookupAll(request.imageIds, 'image', (id) => reader.image(id)),
    request.approvedAmiPath === undefined
      ? Promise.resolve(undefined)
      : safely(`approved AMIs under ${request.approvedAmiPath}`, () => reader.approvedAmiIds(request.approvedAmiPath as string)),
  ]);

  const tagsOf = (id: string): Record<string, string> | undefined => {
    const lookup = instances[id] ?? securityGroups[id];
    return lookup?.status === 'found' ? lookup.value.tags : undefined;
  };
  const tagged = request.exemptionResourceIds.filter((id) => tagsOf(id)?.[request.exemptionTag] !== undefined);
  const exemptionWriters = await lookupAll(tagged, `writer of ${request.exemptionTag} on`, (id) => reader.tagWriter(id, request.exemptionTag));

  return {
    instances,
    securityGroups,
    images,
    ...(approvedAmiIds === undefined ? {} : { approvedAmiIds }),
    exemptionWriters,
    now,
  };
}
