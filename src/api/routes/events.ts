/** The event backbone over HTTP: the catalog, the event log for tracing, dead letters and their replay. */
import { z } from 'zod';
import {
  defaultCatalog,
  getDeadLetter,
  listDeadLetters,
  listEvents,
  replayDeadLetter,
  type DeadLetter,
  type StoredEvent,
} from '../../events/index.ts';
import type { RouteModule } from './types.ts';

const cursor = z.string().regex(/^\d{1,19}$/, 'a cursor from a previous page');

const eventDto = z.object({
  sequence: z.string(),
  relayed: z.boolean(),
  relayedAt: z.string().nullable(),
  event: z.object({
    specversion: z.literal('1.0'),
    id: z.string(),
    source: z.string(),
    type: z.string(),
    subject: z.string().optional(),
    time: z.string(),
    datacontenttype: z.literal('application/json'),
    data: z.unknown(),
    traceparent: z.string().optional(),
    correlationid: z.string().optional(),
  }),
});

const deadLetterDto = z.object({
  id: z.string(),
  consumer: z.string(),
  eventId: z.string(),
  eventSequence: z.string(),
  eventType: z.string(),
  status: z.enum(['dead', 'replaying', 'replayed']),
  attempts: z.number().int(),
  attemptedAt: z.array(z.string()),
  lastError: z.string(),
  lastErrorStack: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  replayedAt: z.string().nullable(),
});

function toEventDto(e: StoredEvent): z.infer<typeof eventDto> {
  return {
    sequence: e.sequence.toString(),
    relayed: e.relayed,
    relayedAt: e.relayedAt?.toISOString() ?? null,
    event: e.event,
  };
}

function toDeadLetterDto(d: DeadLetter): z.infer<typeof deadLetterDto> {
  return {
    id: d.id.toString(),
    consumer: d.consumer,
    eventId: d.eventId,
    eventSequence: d.eventSequence.toString(),
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    attemptedAt: d.attemptedAt.map((t) => t.toISOString()),
    lastError: d.lastError,
    lastErrorStack: d.lastErrorStack,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    replayedAt: d.replayedAt?.toISOString() ?? null,
  };
}

/** GET /v1/event-types, GET /v1/events, GET /v1/dead-letters(/:id), POST /v1/dead-letters/:id/replay. */
export const eventRoutes: RouteModule = async (app, services) => {
  app.get(
    '/v1/event-types',
    {
      config: { scope: 'events:read' },
      schema: {
        tags: ['events'],
        summary: 'The event catalog: every event type with its version, owner flow and JSON Schema',
        security: [{ apiKey: [] }],
        response: {
          200: z.object({
            data: z.array(
              z.object({
                type: z.string(),
                version: z.number(),
                owner: z.string(),
                description: z.string(),
                jsonSchema: z.record(z.string(), z.unknown()),
              }),
            ),
          }),
        },
      },
    },
    async () => ({ data: defaultCatalog.describe() }),
  );

  app.get(
    '/v1/events',
    {
      config: { scope: 'events:read' },
      schema: {
        tags: ['events'],
        summary:
          'Stored events in sequence order, e.g. everything of one business transaction (correlationid)',
        security: [{ apiKey: [] }],
        querystring: z.strictObject({
          type: z.string().min(1).optional(),
          correlationid: z.string().min(1).optional(),
          after: cursor.optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: z.object({ data: z.array(eventDto), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await listEvents(services.db, {
        ...(q.type === undefined ? {} : { type: q.type }),
        ...(q.correlationid === undefined ? {} : { correlationId: q.correlationid }),
        ...(q.after === undefined ? {} : { after: BigInt(q.after) }),
        limit: q.limit,
      });
      return { data: page.events.map(toEventDto), nextCursor: page.nextAfter?.toString() ?? null };
    },
  );

  app.get(
    '/v1/dead-letters',
    {
      config: { scope: 'events:read' },
      schema: {
        tags: ['events'],
        summary: 'Events a consumer gave up on after its last retry, oldest first',
        security: [{ apiKey: [] }],
        querystring: z.strictObject({
          consumer: z.string().min(1).optional(),
          status: z.enum(['dead', 'replaying', 'replayed']).optional(),
          after: cursor.optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: z.object({ data: z.array(deadLetterDto), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await listDeadLetters(services.db, {
        ...(q.consumer === undefined ? {} : { consumer: q.consumer }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.after === undefined ? {} : { after: q.after }),
        limit: q.limit,
      });
      return {
        data: rows.map(toDeadLetterDto),
        nextCursor: rows.length === q.limit ? (rows.at(-1)?.id.toString() ?? null) : null,
      };
    },
  );

  app.get(
    '/v1/dead-letters/:id',
    {
      config: { scope: 'events:read' },
      schema: {
        tags: ['events'],
        summary: 'One dead letter with its event',
        security: [{ apiKey: [] }],
        params: z.object({ id: cursor }),
        response: { 200: deadLetterDto.extend({ event: eventDto.nullable() }) },
      },
    },
    async (request) => {
      const d = await getDeadLetter(services.db, request.params.id);
      return { ...toDeadLetterDto(d), event: d.event === undefined ? null : toEventDto(d.event) };
    },
  );

  app.post(
    '/v1/dead-letters/:id/replay',
    {
      config: { scope: 'events:admin' },
      schema: {
        tags: ['events'],
        summary:
          'Hand a dead letter back to its running consumer with fresh attempts (effects stay exactly once)',
        security: [{ apiKey: [] }],
        params: z.object({ id: cursor }),
        response: { 202: deadLetterDto },
      },
    },
    async (request, reply) =>
      reply.status(202).send(toDeadLetterDto(await replayDeadLetter(services.db, request.params.id))),
  );
};
