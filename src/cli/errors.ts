/**
 * How the CLI ends on a user error: one line `ringvm: what: reason` on stderr and a non-zero
 * status, never a stack trace. A UsageError is a bad option value (status 2).
 */
export class UsageError extends Error {}

export function fail(message: string, status: number): number {
  process.stderr.write(`ringvm: ${message}\n`);
  return status;
}
