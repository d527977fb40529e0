/**
 * Typed errors. One base class; each subclass names a kind of failure and carries the
 * context needed to act on it (the resource, the rule, the step), and keeps `cause`.
 */
export interface ErrorContext {
  resource?: string;
  rule?: string;
  step?: string;
  eventId?: string;
  [key: string]: unknown;
}

export class DriftwardenError extends Error {
  readonly context: ErrorContext;
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** The policy file is missing, not YAML, or does not match the schema. `issues` says where and what. */
export class PolicyError extends DriftwardenError {
  constructor(
    message: string,
    readonly issues: { path: string; message: string; line?: number; column?: number }[],
    options?: { cause?: unknown },
  ) {
    super(message, {}, options);
  }
}

/** Input that could not be read at all (a file, a snapshot). */
export class InputError extends DriftwardenError {}

/** Context that driftwarden needed but could not read: it fails closed. */
export class ContextUnavailableError extends DriftwardenError {}

/** A step failed; `context.step` and `context.resource` say which. */
export class StepError extends DriftwardenError {}
