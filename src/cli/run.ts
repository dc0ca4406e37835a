/** Runs a command body and turns failures into a message on stderr and an exit code. */
import { AppError, ErrorCodes } from '../domain/index.ts';

/** Exit code 2: the operator must fix configuration or environment (bad config, bad database URL, locked data). */
export const EXIT_USAGE = 2;

const usageCodes = new Set<string>([
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.DATABASE_URL_INVALID,
  ErrorCodes.DATABASE_UNREACHABLE,
  ErrorCodes.DATABASE_NEWER_THAN_CODE,
  ErrorCodes.MIGRATION_CHECKSUM_MISMATCH,
  ErrorCodes.DATA_DIR_LOCKED,
]);

/** Exit code for an error: 2 for what the operator must fix, 1 otherwise. */
export function exitCodeFor(error: unknown): number {
  return error instanceof AppError && usageCodes.has(error.code) ? EXIT_USAGE : 1;
}

/** Prints the error for a person (no stack for expected errors) and sets the exit code. */
export function reportFailure(error: unknown): void {
  const message =
    error instanceof AppError
      ? `${error.message}`
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  const code = error instanceof AppError ? ` [${error.code}]` : '';
  process.stderr.write(`kontor: ${message}${code}\n`);
  process.exitCode = exitCodeFor(error);
}

/** Wraps an async action so that a failure exits with the right code. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      reportFailure(e);
    }
  };
}
