/**
 * The only place that maps error codes to HTTP statuses and renders the one error body:
 * `{ "error": { "type", "code", "message", "details" } }`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ErrorCodes, ValidationError, type FieldIssue } from '../domain/index.ts';

/** The `type` of an error body: the broad class a client can branch on. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'idempotency_error'
  | 'upstream_error'
  | 'api_error';

export interface ErrorBody {
  error: { type: ErrorType; code: string; message: string; details?: Record<string, unknown> };
}

const statusByCode: Record<string, { status: number; type: ErrorType }> = {
  [ErrorCodes.VALIDATION_FAILED]: { status: 400, type: 'invalid_request_error' },
  [ErrorCodes.INVALID_MONEY]: { status: 400, type: 'invalid_request_error' },
  [ErrorCodes.CURRENCY_MISMATCH]: { status: 400, type: 'invalid_request_error' },
  [ErrorCodes.UNKNOWN_CURRENCY]: { status: 400, type: 'invalid_request_error' },
  [ErrorCodes.INVALID_IBAN]: { status: 400, type: 'invalid_request_error' },
  [ErrorCodes.INVALID_BIC]: { status: 400, type: 'invalid_request_error' },
  [ErrorCodes.UNAUTHENTICATED]: { status: 401, type: 'authentication_error' },
  [ErrorCodes.FORBIDDEN]: { status: 403, type: 'permission_error' },
  [ErrorCodes.NOT_FOUND]: { status: 404, type: 'not_found_error' },
  [ErrorCodes.CONFLICT]: { status: 409, type: 'conflict_error' },
  [ErrorCodes.PAYLOAD_TOO_LARGE]: { status: 413, type: 'invalid_request_error' },
  [ErrorCodes.FILE_TOO_LARGE]: { status: 413, type: 'invalid_request_error' },
  // Segregation of duties: the identity is known but may not make this decision.
  [ErrorCodes.SOD_CREATOR_CANNOT_APPROVE]: { status: 403, type: 'permission_error' },
  [ErrorCodes.SOD_DUPLICATE_APPROVER]: { status: 403, type: 'permission_error' },
  [ErrorCodes.APPROVER_NOT_HUMAN]: { status: 403, type: 'permission_error' },
  [ErrorCodes.APPROVER_MISSING_ROLE]: { status: 403, type: 'permission_error' },
  [ErrorCodes.IDEMPOTENCY_KEY_REUSED]: { status: 422, type: 'idempotency_error' },
  [ErrorCodes.RATE_LIMITED]: { status: 429, type: 'rate_limit_error' },
  [ErrorCodes.UPSTREAM_UNAVAILABLE]: { status: 503, type: 'upstream_error' },
  [ErrorCodes.DATABASE_UNREACHABLE]: { status: 503, type: 'upstream_error' },
};

/** HTTP status and error type of an AppError; unknown codes: validation → 400, else 500. */
export function classify(error: AppError): { status: number; type: ErrorType } {
  const known = statusByCode[error.code];
  if (known) return known;
  if (error instanceof ValidationError) return { status: 400, type: 'invalid_request_error' };
  if (error.name === 'NotFoundError') return { status: 404, type: 'not_found_error' };
  if (error.name === 'ConflictError') return { status: 409, type: 'conflict_error' };
  return error.retryable ? { status: 503, type: 'upstream_error' } : { status: 500, type: 'api_error' };
}

/** Builds an error body. */
export function errorBody(
  type: ErrorType,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): ErrorBody {
  return { error: { type, code, message, ...(details === undefined ? {} : { details }) } };
}

function fieldIssues(error: FastifyError): FieldIssue[] {
  if (hasZodFastifySchemaValidationErrors(error)) {
    return error.validation.map((v) => {
      const where = error.validationContext ?? 'body';
      const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return { path: path === '' ? where : `${where}.${path}`, message: v.message ?? 'invalid' };
    });
  }
  return (error.validation ?? []).map((v) => ({
    path: `${error.validationContext ?? 'body'}${v.instancePath.replace(/\//g, '.')}`,
    message: v.message ?? 'invalid',
  }));
}

/** Fastify error handler: renders every error in the one body shape. */
export function handleError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const fe = error as FastifyError;
  if (fe.validation) {
    const issues = fieldIssues(fe);
    return reply
      .status(400)
      .send(
        errorBody(
          'invalid_request_error',
          ErrorCodes.VALIDATION_FAILED,
          issues.map((i) => `${i.path}: ${i.message}`).join('; '),
          { issues },
        ),
      );
  }
  if (error instanceof AppError) {
    const { status, type } = classify(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (error.name === 'RetryAfterError' && 'retryAt' in error && error.retryAt instanceof Date) {
      void reply.header('retry-after', Math.max(1, Math.ceil((error.retryAt.getTime() - Date.now()) / 1000)));
    }
    return reply.status(status).send(errorBody(type, error.code, error.message, error.details));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply
        .status(413)
        .send(
          errorBody(
            'invalid_request_error',
            ErrorCodes.PAYLOAD_TOO_LARGE,
            'the request body is larger than allowed',
          ),
        );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply
        .status(400)
        .send(
          errorBody(
            'invalid_request_error',
            ErrorCodes.VALIDATION_FAILED,
            `malformed JSON body: ${fe.message}`,
          ),
        );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply
        .status(415)
        .send(errorBody('invalid_request_error', ErrorCodes.VALIDATION_FAILED, fe.message));
    default:
      break;
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply
      .status(fe.statusCode)
      .send(errorBody('invalid_request_error', fe.code ?? ErrorCodes.VALIDATION_FAILED, fe.message));
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply
    .status(500)
    .send(
      errorBody('api_error', ErrorCodes.INTERNAL, 'internal error; see the server log for the request id'),
    );
}
