/**
 * The event catalog: every event type Kontor publishes, with its data schema, version, owner flow
 * and meaning. Publishing data that does not match its schema fails at the publisher.
 */
import { z } from 'zod';
import { ErrorCodes, ValidationError, paymentOrderStates, type PaymentOrderState } from '../domain/index.ts';
import { eventTypeNameSchema } from './envelope.ts';

/** One entry of the catalog. */
export interface EventTypeDefinition<S extends z.ZodType = z.ZodType> {
  /** Versioned name, e.g. `kontor.bank.statement.received.v1`; the suffix equals `version`. */
  type: string;
  version: number;
  /** The flow (or module) that publishes it. */
  owner: string;
  description: string;
  schema: S;
}

const moneyJson = z.object({
  amount: z.string().regex(/^-?\d+(\.\d+)?$/),
  currency: z.string().regex(/^[A-Z]{3}$/),
});

const statementReceived = z.object({
  statementId: z.string().min(1),
  bankAccountId: z.string().min(1),
  format: z.enum(['camt053', 'camt052', 'camt054', 'mt940', 'csv']),
  fileName: z.string().min(1).optional(),
  fileSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  lineCount: z.number().int().nonnegative(),
});

const statementPosted = z.object({
  statementId: z.string().min(1),
  bankAccountId: z.string().min(1),
  odooStatementId: z.number().int().positive().optional(),
  linesPosted: z.number().int().nonnegative(),
  linesSkippedAsDuplicate: z.number().int().nonnegative().default(0),
});

const reconciliationMatched = z.object({
  statementLineId: z.string().min(1),
  bankAccountId: z.string().min(1),
  invoiceIds: z.array(z.string().min(1)).min(1),
  amount: moneyJson,
  rule: z.string().min(1),
  confidence: z.number().min(0).max(1).optional(),
});

const reconciliationUndone = z.object({
  statementLineId: z.string().min(1),
  bankAccountId: z.string().min(1),
  /** What the line had been reconciled with (invoice ids, or `payment:<id>`). */
  itemIds: z.array(z.string().min(1)),
  amount: moneyJson,
  /** Where the line went back to: a proposal (it had allocations) or an exception. */
  status: z.enum(['proposed', 'exception']),
  actor: z.string().min(1),
});

/** The data of every `kontor.payment.order.<state>.v1` event. */
function paymentOrderStateSchema(state: PaymentOrderState) {
  return z.object({
    paymentOrderId: z.string().min(1),
    entityId: z.string().min(1),
    state: z.literal(state),
    previousState: z.enum(paymentOrderStates).optional(),
    total: moneyJson.optional(),
    lineCount: z.number().int().positive().optional(),
    actor: z.string().min(1).optional(),
    reason: z.string().max(500).optional(),
  });
}

/** The type name of the event announcing that a payment order reached `state`. */
export function paymentOrderEventType(
  state: PaymentOrderState,
): `kontor.payment.order.${PaymentOrderState}.v1` {
  return `kontor.payment.order.${state}.v1`;
}

/** The event types Kontor ships with. */
export const builtInEventTypes: readonly EventTypeDefinition[] = [
  {
    type: 'kontor.bank.statement.received.v1',
    version: 1,
    owner: 'statement-import',
    description:
      'A bank statement file was received, parsed and balance-checked; its lines are ready to post.',
    schema: statementReceived,
  },
  {
    type: 'kontor.bank.statement.posted.v1',
    version: 1,
    owner: 'statement-import',
    description: 'The lines of a bank statement were posted to the Odoo bank journal (duplicates skipped).',
    schema: statementPosted,
  },
  {
    type: 'kontor.reconciliation.matched.v1',
    version: 1,
    owner: 'reconciliation',
    description: 'A bank statement line was matched to one or more open invoices or bills.',
    schema: reconciliationMatched,
  },
  ...paymentOrderStates.map((state): EventTypeDefinition => ({
    type: paymentOrderEventType(state),
    version: 1,
    owner: 'payment-run',
    description: `A payment order moved to the state "${state}".`,
    schema: paymentOrderStateSchema(state),
  })),
  {
    type: 'kontor.reconciliation.undone.v1',
    version: 1,
    owner: 'reconciliation',
    description:
      "A person undid a bank line's reconciliation in Odoo; the line is back in the queue as a proposal or exception.",
    schema: reconciliationUndone,
  },
];

/** A printable row of the catalog (what `GET /v1/event-types` serves). */
export interface EventTypeSummary {
  type: string;
  version: number;
  owner: string;
  description: string;
  jsonSchema: Record<string, unknown>;
}

/** A set of event types; the default one holds the built-in types, tests may register more. */
export class EventCatalog {
  readonly #types = new Map<string, EventTypeDefinition>();

  constructor(definitions: readonly EventTypeDefinition[] = builtInEventTypes) {
    for (const d of definitions) this.register(d);
  }

  /** Adds an event type; a name may be registered only once and must end in `.v<version>`. */
  register(definition: EventTypeDefinition): this {
    if (
      !eventTypeNameSchema.safeParse(definition.type).success ||
      !definition.type.endsWith(`.v${definition.version}`)
    ) {
      throw new ValidationError(
        `event type "${definition.type}" must look like kontor.<entity>.<verb>.v${definition.version}`,
        [{ path: 'type', message: 'not a versioned kontor event type name' }],
      );
    }
    if (this.#types.has(definition.type)) {
      throw new ValidationError(
        `event type "${definition.type}" is already registered; publish a new version instead`,
        [{ path: 'type', message: 'duplicate' }],
      );
    }
    this.#types.set(definition.type, definition);
    return this;
  }

  /** Looks an event type up; undefined when it is not in the catalog. */
  find(type: string): EventTypeDefinition | undefined {
    return this.#types.get(type);
  }

  /** Every registered type, sorted by name. */
  list(): EventTypeDefinition[] {
    return [...this.#types.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  /** Checks `data` against the schema of `type`; returns the parsed data or throws a ValidationError. */
  validate(type: string, data: unknown): unknown {
    const definition = this.#types.get(type);
    if (definition === undefined) {
      throw new ValidationError(
        `unknown event type "${type}": add it to the event catalog before publishing it`,
        [{ path: 'type', message: 'not in the catalog' }],
        {
          code: ErrorCodes.EVENT_TYPE_UNKNOWN,
        },
      );
    }
    const parsed = definition.schema.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        path: ['data', ...i.path.map(String)].join('.'),
        message: i.message,
      }));
      throw new ValidationError(
        `data of ${type} does not match its schema: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        issues,
        {
          code: ErrorCodes.EVENT_SCHEMA_VIOLATION,
        },
      );
    }
    return parsed.data;
  }

  /** The catalog with JSON Schema (draft 2020-12) for each type's data. */
  describe(): EventTypeSummary[] {
    return this.list().map((d) => ({
      type: d.type,
      version: d.version,
      owner: d.owner,
      description: d.description,
      jsonSchema: z.toJSONSchema(d.schema, { io: 'input', unrepresentable: 'any' }),
    }));
  }
}

/** The catalog used when a publisher passes none. */
export const defaultCatalog = new EventCatalog();

/** Renders the catalog as a plain-text table (for `kontor events catalog`). */
export function formatCatalog(catalog: EventCatalog = defaultCatalog): string {
  const rows = catalog.list().map((d) => [d.type, `v${d.version}`, d.owner, d.description]);
  const header = ['TYPE', 'VERSION', 'OWNER', 'DESCRIPTION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
