/** Idempotent batched writes: `Model.load` with an external id column, split on error to isolate bad rows. */
import { createHash } from 'node:crypto';
import { type AppError, ErrorCodes } from '../../domain/index.ts';
import type { OdooTransport } from './transport.ts';

/** The ir.model.data module every record Kontor creates lives under. */
export const kontorModule = 'kontor';

/** A deterministic external id: `kontor.<prefix>_<sha256 of the business key parts, 32 hex>`. */
export function createExternalId(prefix: string, parts: readonly string[]): string {
  const digest = createHash('sha256').update(parts.join('\u001f')).digest('hex').slice(0, 32);
  return `${kontorModule}.${prefix}_${digest}`;
}

/** One row for `load`: its external id and the values for the other columns, as strings. */
export interface LoadRow {
  externalId: string;
  values: string[];
}

/** What a batched write did with one record. */
export type WriteStatus = 'created' | 'existing' | 'failed';

/** What happened to one input record of a batch. */
export interface WriteOutcome {
  index: number;
  externalId: string;
  status: WriteStatus;
  id?: number;
  error?: string;
}

/** Totals and per-record outcomes of a batched write. */
export interface BatchWriteResult {
  outcomes: WriteOutcome[];
  created: number;
  existing: number;
  failed: number;
}

/** A model, its `load` columns and the rows to write. */
export interface LoadBatchesInput {
  model: string;
  /** Column names after the `id` column, e.g. `journal_id/.id`. */
  fields: string[];
  rows: LoadRow[];
  context: Record<string, unknown>;
  batchSize?: number;
}

interface LoadAnswer {
  ids: number[] | false;
  messages?: Array<{ type: string; message: string; record?: number; field?: string }>;
}

/**
 * Writes rows in batches: rows whose external id already exists are returned as they are, the rest go
 * through one `load` call per batch, so each record and its external id commit together.
 */
export async function loadInBatches(
  transport: OdooTransport,
  input: LoadBatchesInput,
): Promise<BatchWriteResult> {
  const size = Math.max(1, input.batchSize ?? 200);
  const outcomes: WriteOutcome[] = [];
  for (let start = 0; start < input.rows.length; start += size) {
    const chunk = input.rows.slice(start, start + size).map((row, i) => ({ row, index: start + i }));
    const existing = await findExternalIds(
      transport,
      input.model,
      chunk.map((c) => c.row.externalId),
      input.context,
    );
    const missing = chunk.filter((c) => {
      const id = existing.get(c.row.externalId);
      if (id !== undefined)
        outcomes.push({ index: c.index, externalId: c.row.externalId, status: 'existing', id });
      return id === undefined;
    });
    if (missing.length > 0) outcomes.push(...(await loadWithSplit(transport, input, missing)));
  }
  outcomes.sort((a, b) => a.index - b.index);
  return {
    outcomes,
    created: outcomes.filter((o) => o.status === 'created').length,
    existing: outcomes.filter((o) => o.status === 'existing').length,
    failed: outcomes.filter((o) => o.status === 'failed').length,
  };
}

/** Looks up the record ids behind full external ids (`kontor.x`) of one model. */
export async function findExternalIds(
  transport: OdooTransport,
  model: string,
  externalIds: string[],
  context: Record<string, unknown>,
): Promise<Map<string, number>> {
  const byModule = new Map<string, string[]>();
  for (const xid of externalIds) {
    const dot = xid.indexOf('.');
    const module = xid.slice(0, dot);
    byModule.set(module, [...(byModule.get(module) ?? []), xid.slice(dot + 1)]);
  }
  const found = new Map<string, number>();
  for (const [module, names] of byModule) {
    const rows = (await transport.call({
      model: 'ir.model.data',
      method: 'search_read',
      params: {
        domain: [
          ['module', '=', module],
          ['model', '=', model],
          ['name', 'in', names],
        ],
        fields: ['name', 'res_id'],
      },
      context,
    })) as Array<{ name: string; res_id: number }>;
    for (const row of rows) found.set(`${module}.${row.name}`, row.res_id);
  }
  return found;
}

async function loadWithSplit(
  transport: OdooTransport,
  input: LoadBatchesInput,
  items: Array<{ row: LoadRow; index: number }>,
): Promise<WriteOutcome[]> {
  let problem: string | undefined;
  // Columns empty in every row are left out: Odoo converts each cell, and fewer columns load measurably faster.
  const used = input.fields.map((_, i) => items.some((c) => (c.row.values[i] ?? '') !== ''));
  const fields = input.fields.filter((_, i) => used[i]);
  const data = items.map((c) => [c.row.externalId, ...c.row.values.filter((_, i) => used[i])]);
  try {
    const answer = (await transport.call({
      model: input.model,
      method: 'load',
      params: { fields: ['id', ...fields], data },
      context: input.context,
    })) as LoadAnswer;
    const errors = (answer.messages ?? []).filter((m) => m.type === 'error');
    if (errors.length === 0 && Array.isArray(answer.ids) && answer.ids.length === items.length) {
      const ids = answer.ids;
      return items.map((c, i) => ({
        index: c.index,
        externalId: c.row.externalId,
        status: 'created',
        id: ids[i],
      }));
    }
    problem = errors.map((m) => m.message).join('; ') || 'Odoo load returned no ids';
  } catch (error) {
    // A record Odoo rejects as invalid is isolated like a load message; anything else (network, rights) stops the write.
    if ((error as AppError).code !== ErrorCodes.ODOO_VALIDATION) throw error;
    problem = (error as Error).message;
  }
  const first = items[0];
  if (items.length === 1 && first) {
    return [{ index: first.index, externalId: first.row.externalId, status: 'failed', error: problem }];
  }
  const half = Math.ceil(items.length / 2);
  return [
    ...(await loadWithSplit(transport, input, items.slice(0, half))),
    ...(await loadWithSplit(transport, input, items.slice(half))),
  ];
}
