/**
 * The sandbox's in-memory database: records per model, a field schema, Odoo's domain filter,
 * record rules per company, access rights per user, and an undo log so a failed call changes nothing.
 */
import { currencyExponent, formatMoney, money, parseCurrency } from '../../../domain/index.ts';
import { fromOdooAmount } from '../amounts.ts';

/** The field types the sandbox emulates. */
export type FieldType =
  'char' | 'integer' | 'boolean' | 'date' | 'selection' | 'monetary' | 'many2one' | 'many2many' | 'float';

/** One field of an emulated model. */
export interface FieldSpec {
  type: FieldType;
  label: string;
  comodel?: string;
  required?: boolean;
  selection?: readonly string[];
  /** Derived from other data on every read and search (Odoo's computed/related fields). */
  compute?: (record: SandboxRecord, db: SandboxDb) => unknown;
}

/** A stored record: its id and raw field values (amounts in minor units). */
export type SandboxRecord = Record<string, unknown> & { id: number };

/** A fault raised inside the sandbox, rendered as Odoo renders the Python exception. */
export class OdooFaultError extends Error {
  constructor(
    readonly odooName: string,
    message: string,
  ) {
    super(message);
    this.name = 'OdooFaultError';
  }
}

/** Raises a fault named like Odoo's exception class (`AccessError`, `UserError`, …). */
export function raiseFault(
  kind: 'AccessDenied' | 'AccessError' | 'UserError' | 'ValidationError' | 'MissingError',
  message: string,
): never {
  throw new OdooFaultError(`odoo.exceptions.${kind}`, message);
}

/** Who calls and in which companies; the first allowed company is the active one. */
export interface SandboxEnv {
  uid: number;
  allowedCompanyIds: number[];
  accounting: boolean;
}

/** The in-memory tables with schema, rules and undo log. */
export class SandboxDb {
  readonly tables = new Map<string, Map<number, SandboxRecord>>();
  private nextIds = new Map<string, number>();
  private undoLog: Array<() => void> | undefined;

  constructor(
    readonly schema: Record<string, Record<string, FieldSpec>>,
    readonly today: () => string,
  ) {
    for (const model of Object.keys(schema)) this.tables.set(model, new Map());
  }

  /** Runs `work` atomically: when it throws, every change it made is undone. */
  transaction<T>(work: () => T): T {
    const outer = this.undoLog;
    const log: Array<() => void> = [];
    this.undoLog = log;
    try {
      const result = work();
      if (outer) outer.push(...log);
      return result;
    } catch (error) {
      for (const undo of log.reverse()) undo();
      throw error;
    } finally {
      this.undoLog = outer;
    }
  }

  /** The table of a model; throws like Odoo for an unknown model. */
  table(model: string): Map<number, SandboxRecord> {
    const table = this.tables.get(model);
    if (!table) raiseFault('UserError', `Object ${model} doesn't exist`);
    return table;
  }

  /** Inserts a record with the next id of its model. */
  insert(model: string, values: Record<string, unknown>): SandboxRecord {
    const table = this.table(model);
    const id = (this.nextIds.get(model) ?? 1) + 0;
    this.nextIds.set(model, id + 1);
    const record: SandboxRecord = { ...values, id };
    table.set(id, record);
    this.undoLog?.push(() => table.delete(id));
    return record;
  }

  /** Changes fields of a record in place. */
  update(model: string, id: number, patch: Record<string, unknown>): void {
    const record = this.table(model).get(id);
    if (!record)
      raiseFault('MissingError', `Record does not exist or has been deleted. (Record: ${model}(${id},))`);
    const before = { ...record };
    Object.assign(record, patch);
    this.undoLog?.push(() => {
      for (const key of Object.keys(record)) delete record[key];
      Object.assign(record, before);
    });
  }

  /** Deletes a record. */
  remove(model: string, id: number): void {
    const table = this.table(model);
    const record = table.get(id);
    if (!record) return;
    table.delete(id);
    this.undoLog?.push(() => table.set(id, record));
  }

  /** A record by id, or undefined. */
  get(model: string, id: number): SandboxRecord | undefined {
    return this.table(model).get(id);
  }

  /** The value of a field, computed ones included. */
  value(model: string, record: SandboxRecord, field: string): unknown {
    const spec = this.schema[model]?.[field];
    if (spec?.compute) return spec.compute(record, this);
    return record[field];
  }

  /** The company a record belongs to, or undefined for shared records. */
  companiesOf(model: string, record: SandboxRecord): number[] | undefined {
    if (model === 'res.company') return [record.id];
    if (this.schema[model]?.company_ids) return (record.company_ids as number[] | undefined) ?? [];
    if (this.schema[model]?.company_id) {
      const company = this.value(model, record, 'company_id');
      return typeof company === 'number' ? [company] : undefined;
    }
    return undefined;
  }

  /** True when the multi-company record rule lets `env` see the record. */
  isVisible(env: SandboxEnv, model: string, record: SandboxRecord): boolean {
    const companies = this.companiesOf(model, record);
    return companies === undefined || companies.some((c) => env.allowedCompanyIds.includes(c));
  }

  /** Refuses models a user without accounting rights may not touch. */
  checkAccess(env: SandboxEnv, model: string, mode: 'read' | 'write' | 'create'): void {
    const restricted =
      model.startsWith('account.') || model === 'res.partner.bank' || model === 'ir.model.data';
    if (restricted && !env.accounting) {
      raiseFault(
        'AccessError',
        `You are not allowed to ${mode === 'read' ? 'access' : mode} '${model}' (${model}) records.\n\nThis operation is allowed for the following groups:\n\t- Accounting/Bookkeeper`,
      );
    }
  }

  /** Reads a visible record or raises AccessError/MissingError like Odoo's record rules do. */
  browse(env: SandboxEnv, model: string, id: number): SandboxRecord {
    const record = this.get(model, id);
    if (!record)
      raiseFault(
        'MissingError',
        `Record does not exist or has been deleted.\n(Record: ${model}(${id},), User: ${env.uid})`,
      );
    if (!this.isVisible(env, model, record)) {
      raiseFault(
        'AccessError',
        `Due to security restrictions, you are not allowed to access '${model}' records. (Records: ${model}(${id},), User: ${env.uid}) - multi-company rule`,
      );
    }
    return record;
  }

  /** Ids of the visible records matching an Odoo domain, in id order. */
  search(
    env: SandboxEnv,
    model: string,
    domain: unknown[],
    offset = 0,
    limit?: number,
    order = 'id asc',
  ): number[] {
    const fields = this.schema[model] ?? {};
    const ids: number[] = [];
    for (const record of this.table(model).values()) {
      if (!this.isVisible(env, model, record)) continue;
      if (this.matches(model, fields, record, domain)) ids.push(record.id);
    }
    const keys = order.split(',').map((part) => {
      const [field = 'id', direction = 'asc'] = part.trim().split(/\s+/);
      return { field, sign: direction.toLowerCase() === 'desc' ? -1 : 1 };
    });
    const table = this.table(model);
    const key = (id: number, field: string): unknown =>
      field === 'id' ? id : this.value(model, table.get(id)!, field);
    ids.sort((a, b) => {
      for (const { field, sign } of keys) {
        const x = key(a, field);
        const y = key(b, field);
        if (x === y) continue;
        const less = typeof x === 'number' && typeof y === 'number' ? x < y : String(x) < String(y);
        return (less ? -1 : 1) * sign;
      }
      return a - b;
    });
    return ids.slice(offset, limit === undefined ? undefined : offset + limit);
  }

  /** Renders fields the way JSON-RPC `read` does (many2one as [id, name], amounts as numbers). */
  render(model: string, record: SandboxRecord, fields: string[]): Record<string, unknown> {
    const specs = this.schema[model] ?? {};
    const out: Record<string, unknown> = { id: record.id };
    for (const field of fields) {
      if (field === 'id') continue;
      if (field === 'display_name') {
        out[field] = this.displayName(model, record);
        continue;
      }
      const spec = specs[field];
      if (!spec)
        throw new OdooFaultError('builtins.ValueError', `Invalid field '${field}' on model '${model}'`);
      const value = this.value(model, record, field);
      out[field] = this.renderValue(model, record, spec, value);
    }
    return out;
  }

  /** The name Odoo shows for a record. */
  displayName(model: string, record: SandboxRecord): string {
    if (model === 'account.account') return `${String(record.code)} ${String(record.name)}`;
    if (model === 'res.partner.bank') return String(record.acc_number);
    if (typeof record.name === 'string' && record.name.length > 0) return record.name;
    return `${model},${record.id}`;
  }

  /** The ISO code of the currency a monetary field of the record is in. */
  currencyOf(model: string, record: SandboxRecord): string {
    const currencyId = this.value(model, record, 'currency_id');
    const currency = typeof currencyId === 'number' ? this.get('res.currency', currencyId) : undefined;
    return typeof currency?.name === 'string' ? currency.name : 'EUR';
  }

  /** Parses an incoming amount (JSON number or decimal string) into minor units of the record's currency. */
  toMinor(value: unknown, currency: string): number {
    if (value === false || value === null || value === undefined || value === '') return 0;
    if (typeof value !== 'number' && typeof value !== 'string')
      throw new OdooFaultError('builtins.ValueError', `invalid amount ${JSON.stringify(value)}`);
    return Number(fromOdooAmount(value, currency).amount);
  }

  private renderValue(model: string, record: SandboxRecord, spec: FieldSpec, value: unknown): unknown {
    switch (spec.type) {
      case 'many2one': {
        if (typeof value !== 'number' || !spec.comodel) return false;
        const target = this.get(spec.comodel, value);
        return target ? [value, this.displayName(spec.comodel, target)] : false;
      }
      case 'many2many':
        return Array.isArray(value) ? [...(value as number[])] : [];
      case 'monetary': {
        // Amounts live as integer minor units; the JSON number is made from the exact decimal string.
        const currency = parseCurrency(this.currencyOf(model, record));
        return Number(formatMoney(money(BigInt(typeof value === 'number' ? value : 0), currency)));
      }
      case 'boolean':
        return value === true;
      case 'integer':
      case 'float':
        return typeof value === 'number' ? value : 0;
      case 'char':
      case 'date':
      case 'selection':
        return typeof value === 'string' && value.length > 0 ? value : false;
    }
  }

  private matches(
    model: string,
    fields: Record<string, FieldSpec>,
    record: SandboxRecord,
    domain: unknown[],
  ): boolean {
    // Polish notation: '&' and '|' take the next two terms, '!' the next one; terms are implicitly AND-ed.
    let pos = 0;
    const next = (): boolean => {
      const term = domain[pos++];
      if (term === '&') return [next(), next()].every(Boolean);
      if (term === '|') {
        const a = next();
        const b = next();
        return a || b;
      }
      if (term === '!') return !next();
      if (!Array.isArray(term) || term.length !== 3)
        throw new OdooFaultError('builtins.ValueError', `Invalid leaf ${JSON.stringify(term)}`);
      const [field, op, expected] = term as [string, string, unknown];
      if (field !== 'id' && !fields[field])
        throw new OdooFaultError(
          'builtins.ValueError',
          `Invalid field ${model}.${field} in leaf ${JSON.stringify(term)}`,
        );
      const spec = fields[field];
      let actual = field === 'id' ? record.id : this.value(model, record, field);
      let wanted = expected;
      if (spec?.type === 'monetary' && typeof wanted === 'number') {
        wanted = this.toMinor(wanted, this.currencyOf(model, record));
      }
      if (spec?.type === 'many2one' && (actual === undefined || actual === null)) actual = false;
      return compare(actual, op, wanted);
    };
    while (pos < domain.length) if (!next()) return false;
    return true;
  }
}

function compare(actual: unknown, op: string, expected: unknown): boolean {
  const list = Array.isArray(expected) ? (expected as unknown[]) : [expected];
  const values = Array.isArray(actual) ? (actual as unknown[]) : [actual];
  const empty = (v: unknown): boolean => v === false || v === undefined || v === null || v === '';
  switch (op) {
    case '=':
    case '==':
      return Array.isArray(actual)
        ? values.includes(expected)
        : empty(expected)
          ? empty(actual)
          : actual === expected;
    case '!=':
      return empty(expected) ? !empty(actual) : actual !== expected;
    case 'in':
      return values.some((v) => list.includes(v) || (empty(v) && list.includes(false)));
    case 'not in':
      return !values.some((v) => list.includes(v));
    case '>':
      return Number(actual) > Number(expected);
    case '>=':
      return Number(actual) >= Number(expected);
    case '<':
      return Number(actual) < Number(expected);
    case '<=':
      return Number(actual) <= Number(expected);
    case 'like':
      return typeof actual === 'string' && actual.includes(String(expected));
    case 'ilike':
      return typeof actual === 'string' && actual.toLowerCase().includes(String(expected).toLowerCase());
    case '=like':
    case '=ilike':
      return (
        typeof actual === 'string' &&
        new RegExp(
          `^${String(expected).replace(/%/g, '.*').replace(/_/g, '.')}$`,
          op === '=ilike' ? 'i' : '',
        ).test(actual)
      );
    default:
      throw new OdooFaultError('builtins.ValueError', `Invalid search operator ${op}`);
  }
}

/** Minor units → the exponent of a currency, for callers that need it. */
export function exponentOf(currency: string): number {
  return currencyExponent(parseCurrency(currency));
}
