/**
 * The context reader of a replay without an account snapshot: every lookup answers
 * "unknown", so every plan that needs context fails closed (decision `held`) and says why.
 */
import type { ContextReader, ImageContext, InstanceContext, Lookup, SecurityGroupContext, TagWriter } from '../core/context';
import { unknown } from '../core/context';

export const NO_SNAPSHOT_REASON = 'no account snapshot: context unknown';

export class UnknownContextReader implements ContextReader {
  constructor(private readonly reason: string = NO_SNAPSHOT_REASON) {}

  async instance(): Promise<Lookup<InstanceContext>> {
    return unknown(this.reason);
  }
  async securityGroup(): Promise<Lookup<SecurityGroupContext>> {
    return unknown(this.reason);
  }
  async image(): Promise<Lookup<ImageContext>> {
    return unknown(this.reason);
  }
  async approvedAmiIds(): Promise<Lookup<string[]>> {
    return unknown(this.reason);
  }
  async tagWriter(): Promise<Lookup<TagWriter>> {
    return unknown(this.reason);
  }
}
