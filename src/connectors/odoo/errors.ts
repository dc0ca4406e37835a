/** Odoo faults mapped onto Kontor's error classes, keeping Odoo's own message and exception name. */
import {
  type AppError,
  ErrorCodes,
  NonRetryableError,
  NotFoundError,
  RetryAfterError,
  ValidationError,
} from '../../domain/index.ts';

/** The `error.data` part of a JSON-RPC fault, or the body of a JSON-2 error. */
export interface OdooFault {
  /** Python exception name, e.g. `odoo.exceptions.AccessError`. */
  name: string;
  message: string;
  debug?: string;
}

// Odoo retries serialization failures itself a few times and then gives up with one of these.
const SERIALIZATION =
  /SerializationFailure|TransactionRollbackError|LockNotAvailable|could not serialize access|deadlock detected/i;

/** Turns an Odoo fault into a typed error that says whether a retry can help. */
export function mapOdooFault(fault: OdooFault, call: string): AppError {
  const details = { odooException: fault.name, call };
  const message = `Odoo ${call}: ${fault.message}`;
  const short = fault.name.split('.').pop() ?? fault.name;
  if (SERIALIZATION.test(fault.name) || SERIALIZATION.test(fault.message)) {
    return new RetryAfterError(ErrorCodes.ODOO_UNAVAILABLE, message, { details });
  }
  switch (short) {
    case 'AccessDenied':
      return new NonRetryableError(ErrorCodes.ODOO_ACCESS_DENIED, message, { details });
    case 'AccessError':
      return new NonRetryableError(ErrorCodes.ODOO_ACCESS_ERROR, message, { details });
    case 'MissingError':
      return new NotFoundError(message, { code: ErrorCodes.ODOO_MISSING_RECORD, details });
    case 'ValidationError':
    case 'UserError':
    case 'RedirectWarning':
    case 'ValueError':
    case 'TypeError':
    case 'KeyError':
    case 'IntegrityError':
      return new ValidationError(message, [], { code: ErrorCodes.ODOO_VALIDATION, details });
    default:
      return new NonRetryableError(ErrorCodes.ODOO_FAULT, message, { details });
  }
}

/** A network failure or a gateway status (502/503/504): Odoo may answer on the next try. */
export function createUnavailableError(message: string, cause?: unknown, retryAt?: Date): RetryAfterError {
  return new RetryAfterError(ErrorCodes.ODOO_UNAVAILABLE, message, {
    cause,
    ...(retryAt ? { retryAt } : {}),
  });
}

/** An answer that is not what the protocol promises (HTML, bad JSON, wrong shape). */
export function createProtocolError(message: string, cause?: unknown): NonRetryableError {
  return new NonRetryableError(ErrorCodes.ODOO_PROTOCOL, message, { cause });
}
