/**
 * Reading AWS SDK errors. SDK v3 errors carry the service's error code as `name`
 * (`InvalidInstanceID.NotFound`, `ValidationError`, `ThrottlingException`); EC2 also
 * keeps it in `Code`. Anything thrown that is not an Error is named `UnknownError`.
 */
export function awsErrorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; Code?: unknown; code?: unknown };
    for (const v of [e.Code, e.code, e.name]) {
      if (typeof v === 'string' && v !== '' && v !== 'Error') return v;
    }
    if (typeof e.name === 'string') return e.name;
  }
  return 'UnknownError';
}

export function awsErrorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}

/** "Name: message", one line, for outcome details and reasons. */
export function describeAwsError(err: unknown): string {
  const name = awsErrorName(err);
  const message = awsErrorMessage(err).replace(/\s+/g, ' ').trim();
  return message && message !== name ? `${name}: ${message}` : name;
}

export function hasErrorName(err: unknown, ...names: string[]): boolean {
  return names.includes(awsErrorName(err));
}
