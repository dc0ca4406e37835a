/**
 * The one error hierarchy of Kontor. Every thrown error is an AppError with a SCREAMING_SNAKE
 * `code` from {@link ErrorCodes} and says whether a retry can help. `api/errors.ts` alone maps
 * codes to HTTP statuses.
 */

/** The catalogue of error codes; add new codes here, never inline. */
export const ErrorCodes = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  INVALID_MONEY: 'INVALID_MONEY',
  CURRENCY_MISMATCH: 'CURRENCY_MISMATCH',
  UNKNOWN_CURRENCY: 'UNKNOWN_CURRENCY',
  INVALID_IBAN: 'INVALID_IBAN',
  INVALID_BIC: 'INVALID_BIC',
  CONFIG_INVALID: 'CONFIG_INVALID',
  DATABASE_URL_INVALID: 'DATABASE_URL_INVALID',
  DATABASE_UNREACHABLE: 'DATABASE_UNREACHABLE',
  DATABASE_NEWER_THAN_CODE: 'DATABASE_NEWER_THAN_CODE',
  MIGRATION_CHECKSUM_MISMATCH: 'MIGRATION_CHECKSUM_MISMATCH',
  DATA_DIR_LOCKED: 'DATA_DIR_LOCKED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  RATE_LIMITED: 'RATE_LIMITED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
  STATEMENT_PARSE_FAILED: 'STATEMENT_PARSE_FAILED',
  STATEMENT_UNBALANCED: 'STATEMENT_UNBALANCED',
  STATEMENT_FORMAT_UNKNOWN: 'STATEMENT_FORMAT_UNKNOWN',
  XML_DOCTYPE_FORBIDDEN: 'XML_DOCTYPE_FORBIDDEN',
  XML_NAMESPACE_UNSUPPORTED: 'XML_NAMESPACE_UNSUPPORTED',
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  EVENT_TYPE_UNKNOWN: 'EVENT_TYPE_UNKNOWN',
  EVENT_SCHEMA_VIOLATION: 'EVENT_SCHEMA_VIOLATION',
  EVENT_BUS_UNAVAILABLE: 'EVENT_BUS_UNAVAILABLE',
  EVENT_HANDLER_FAILED: 'EVENT_HANDLER_FAILED',
  PAYMENT_FILE_INVALID: 'PAYMENT_FILE_INVALID',
  XML_SCHEMA_INVALID: 'XML_SCHEMA_INVALID',
  STATUS_REPORT_PARSE_FAILED: 'STATUS_REPORT_PARSE_FAILED',
  SOD_CREATOR_CANNOT_APPROVE: 'SOD_CREATOR_CANNOT_APPROVE',
  SOD_DUPLICATE_APPROVER: 'SOD_DUPLICATE_APPROVER',
  APPROVER_NOT_HUMAN: 'APPROVER_NOT_HUMAN',
  APPROVER_MISSING_ROLE: 'APPROVER_MISSING_ROLE',
  APPROVAL_EXPIRED: 'APPROVAL_EXPIRED',
  RECONCILIATION_UNBALANCED: 'RECONCILIATION_UNBALANCED',
  ODOO_ACCESS_DENIED: 'ODOO_ACCESS_DENIED',
  ODOO_ACCESS_ERROR: 'ODOO_ACCESS_ERROR',
  ODOO_VALIDATION: 'ODOO_VALIDATION',
  ODOO_MISSING_RECORD: 'ODOO_MISSING_RECORD',
  ODOO_UNAVAILABLE: 'ODOO_UNAVAILABLE',
  ODOO_CIRCUIT_OPEN: 'ODOO_CIRCUIT_OPEN',
  ODOO_FAULT: 'ODOO_FAULT',
  ODOO_PROTOCOL: 'ODOO_PROTOCOL',
  STATEMENT_ACCOUNT_UNKNOWN: 'STATEMENT_ACCOUNT_UNKNOWN',
  STATEMENT_CURRENCY_MISMATCH: 'STATEMENT_CURRENCY_MISMATCH',
  PAYMENT_ORDER_STATE_CONFLICT: 'PAYMENT_ORDER_STATE_CONFLICT',
  BILL_ALREADY_IN_OPEN_ORDER: 'BILL_ALREADY_IN_OPEN_ORDER',
  PAYMENT_ORDER_EMPTY: 'PAYMENT_ORDER_EMPTY',
  PAYMENT_XSD_MISSING: 'PAYMENT_XSD_MISSING',
  BANK_CHANNEL_UNAVAILABLE: 'BANK_CHANNEL_UNAVAILABLE',
  BANK_CHANNEL_HOST_KEY_MISMATCH: 'BANK_CHANNEL_HOST_KEY_MISMATCH',
  BANK_CHANNEL_AUTH_FAILED: 'BANK_CHANNEL_AUTH_FAILED',
  BANK_CHANNEL_FILE_CONFLICT: 'BANK_CHANNEL_FILE_CONFLICT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | (string & { readonly __code?: never });

/** One problem with one field of an input, named by its path (`bankAccounts.0.iban`). */
export interface FieldIssue {
  path: string;
  message: string;
  line?: number;
}

export interface AppErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

/** Base of every error Kontor throws on purpose. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** Input that breaks a rule; `issues` names each offending field. Never retryable. */
export class ValidationError extends AppError {
  readonly issues: FieldIssue[];

  constructor(
    message: string,
    issues: FieldIssue[] = [],
    options: AppErrorOptions & { code?: ErrorCode } = {},
  ) {
    super(options.code ?? ErrorCodes.VALIDATION_FAILED, message, {
      ...options,
      retryable: false,
      details: { ...options.details, issues },
    });
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** A thing that was asked for by id does not exist. */
export class NotFoundError extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCodes.NOT_FOUND, message, { ...options, retryable: false });
    this.name = 'NotFoundError';
  }
}

/** The request conflicts with the current state (already approved, already locked…). */
export class ConflictError extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCodes.CONFLICT, message, { ...options, retryable: false });
    this.name = 'ConflictError';
  }
}

/** A failure that no retry can fix (bad credentials, a rejected record). */
export class NonRetryableError extends AppError {
  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, { ...options, retryable: false });
    this.name = 'NonRetryableError';
  }
}

/** A transient failure: retry, no earlier than `retryAt` when it is known. */
export class RetryAfterError extends AppError {
  readonly retryAt: Date | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions & { retryAt?: Date } = {}) {
    super(code, message, { ...options, retryable: true });
    this.name = 'RetryAfterError';
    this.retryAt = options.retryAt;
  }
}

/** Fails the type check when a switch over a union misses a case, and throws at run time. */
export function assertNever(value: never, what = 'value'): never {
  throw new AppError(ErrorCodes.INTERNAL, `unexpected ${what}: ${JSON.stringify(value)}`);
}
