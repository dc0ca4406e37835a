/** Bank statements: upload a file (raw body or multipart), list imports, and one import with each line's Odoo status. */
import multipart from '@fastify/multipart';
import { z } from 'zod';
import { ErrorCodes, NotFoundError, ValidationError } from '../../domain/index.ts';
import type { RouteModule } from './types.ts';

const RAW_TYPES = [
  'application/xml',
  'text/xml',
  'text/plain',
  'text/csv',
  'application/octet-stream',
  'application/x-swift-mt940',
];

/** POST/GET /v1/statements and GET /v1/statements/{id}. */
export const statementRoutes: RouteModule = async (app, services) => {
  const statements = services.statements;
  if (statements === undefined) return;

  // Statement files arrive as they are: bytes, never re-encoded (MT940 may be Latin-1).
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    RAW_TYPES,
    { parseAs: 'buffer', bodyLimit: statements.maxBytes },
    (_request, body, done) => done(null, body),
  );
  // A browser form or `curl -F file=@stmt.xml` sends multipart: one file part per request.
  await app.register(multipart, { limits: { fileSize: statements.maxBytes, files: 1, fields: 5 } });

  app.post(
    '/v1/statements',
    {
      config: { scope: 'statements:write' },
      bodyLimit: statements.maxBytes,
      schema: {
        tags: ['statements'],
        summary:
          'Import a bank statement file (camt.052/053/054, MT940/942, CSV) sent as the raw body or as one multipart file part',
        description:
          "The same file twice answers 200 with the first import (duplicate: true); a new file answers 201. A file that fails any check (unknown account, wrong currency, unbalanced, malformed) stores nothing. A CSV file needs the bank account it belongs to (`account` query parameter, or an `account` multipart field before the file part): that account's csvProfile reads it.",
        querystring: z.object({
          filename: z.string().max(255).optional(),
          /** Id of the configured bank account the file is for; required for CSV. */
          account: z.string().min(1).max(100).optional(),
        }),
      },
    },
    async (request, reply) => {
      let content: Buffer;
      let fileName = request.query.filename;
      let account = request.query.account;
      if (request.isMultipart()) {
        const part = await request.file();
        if (part === undefined)
          throw new ValidationError('the multipart body has no file part', [
            { path: 'body.file', message: 'missing' },
          ]);
        content = await part.toBuffer();
        if (part.file.truncated) {
          throw new ValidationError(`the file is larger than ${statements.maxBytes} bytes`, [], {
            code: ErrorCodes.FILE_TOO_LARGE,
          });
        }
        fileName ??= part.filename || undefined;
        // Fields sent before the file part arrive with it.
        const field = part.fields.account;
        const value =
          field !== undefined && !Array.isArray(field) && field.type === 'field' ? field.value : undefined;
        if (typeof value === 'string' && value !== '') account ??= value;
      } else if (Buffer.isBuffer(request.body)) {
        content = request.body;
      } else {
        return reply.status(415).send({
          error: {
            type: 'invalid_request_error',
            code: 'VALIDATION_FAILED',
            message: `send the file as the raw body with Content-Type ${RAW_TYPES.join(', ')}, or as multipart/form-data`,
          },
        });
      }
      const summary = await statements.importFile({
        content,
        fileName,
        source: 'api',
        actor: request.identity?.identityId ?? 'anonymous',
        correlationId: request.correlationId || undefined,
        account,
      });
      return reply.status(summary.duplicate ? 200 : 201).send(summary);
    },
  );

  app.get(
    '/v1/statements',
    {
      config: { scope: 'statements:read' },
      schema: {
        tags: ['statements'],
        summary: 'List statement imports, newest first, with their posting progress',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          before: z.string().optional(),
          status: z.enum(['received', 'posted', 'partially_posted']).optional(),
        }),
      },
    },
    async (request) => {
      const { limit, before, status } = request.query;
      const page = await statements.list({
        limit,
        ...(before === undefined ? {} : { before }),
        ...(status === undefined ? {} : { status }),
      });
      return { ...page, backlog: await statements.backlog() };
    },
  );

  app.get(
    '/v1/statements/:id',
    {
      config: { scope: 'statements:read' },
      schema: {
        tags: ['statements'],
        summary: 'One statement import with every line and its Odoo status',
        params: z.object({ id: z.string().min(1).max(100) }),
      },
    },
    async (request) => {
      const detail = await statements.get(request.params.id);
      if (detail === undefined) throw new NotFoundError(`no statement import ${request.params.id}`);
      return detail;
    },
  );
};
