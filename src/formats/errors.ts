/** Typed rejections of bank statement files, each naming where in the file and why. */
import { type ErrorCode, ErrorCodes, ValidationError } from '../domain/index.ts';

/** Where a problem sits in a file: a line (and column), and for XML the element path. */
export interface SourceLocation {
  line?: number;
  column?: number;
  /** XML element path, e.g. `Document/BkToCstmrStmt/Stmt[2]/Ntry[14]/Amt`. */
  path?: string;
}

/** Renders a location as `line 12:7 at Document/…/Amt`. */
export function formatLocation(location: SourceLocation): string {
  const parts: string[] = [];
  if (location.line !== undefined)
    parts.push(
      location.column === undefined ? `line ${location.line}` : `line ${location.line}:${location.column}`,
    );
  if (location.path !== undefined) parts.push(`at ${location.path}`);
  return parts.join(' ');
}

/** A statement file that cannot be read: the reason, the location and a code from the catalogue. */
export class StatementParseError extends ValidationError {
  readonly location: SourceLocation;
  readonly reason: string;

  constructor(
    reason: string,
    location: SourceLocation = {},
    options: { code?: ErrorCode; cause?: unknown } = {},
  ) {
    const where = formatLocation(location);
    super(
      where === '' ? reason : `${reason} (${where})`,
      [
        {
          path: location.path ?? '',
          message: reason,
          ...(location.line === undefined ? {} : { line: location.line }),
        },
      ],
      {
        code: options.code ?? ErrorCodes.STATEMENT_PARSE_FAILED,
        cause: options.cause,
        details: { location },
      },
    );
    this.name = 'StatementParseError';
    this.location = location;
    this.reason = reason;
  }
}

/** Opening balance plus booked entries does not give the closing balance. */
export class StatementUnbalancedError extends ValidationError {
  constructor(message: string, statementId: string) {
    super(message, [{ path: `statement ${statementId}`, message }], {
      code: ErrorCodes.STATEMENT_UNBALANCED,
    });
    this.name = 'StatementUnbalancedError';
  }
}

/** Wraps any error thrown while reading a file into a StatementParseError at `location`. */
export function toParseError(error: unknown, location: SourceLocation): StatementParseError {
  if (error instanceof StatementParseError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StatementParseError(reason, location, { cause: error });
}
