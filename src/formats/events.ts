/** The streaming shape every parser emits, and helpers that fold it into whole statements. */
import { type Money, type Statement, type StatementLine, money } from '../domain/index.ts';

/** A statement without its lines: what is known before and after streaming them. */
export type StatementHead = Omit<Statement, 'lines'>;

/** A statement's head with the totals of its streamed lines, enough for the balance check. */
export interface StatementSummary extends StatementHead {
  lineCount: number;
  /** Sum of the booked lines' amounts, in the account currency. */
  bookedTotal: Money;
  /** Currencies of booked lines that are not the account's (left out of `bookedTotal`). */
  otherCurrencies: string[];
}

/** One step of a parse: a statement starts, a line, a statement ends (with all its balances). */
export type StatementEvent =
  | { type: 'statement-start'; head: StatementHead }
  | { type: 'line'; line: StatementLine }
  | { type: 'statement-end'; summary: StatementSummary };

/** Folds an event stream into whole statements (fine for files that fit in memory). */
export async function collectStatements(events: AsyncIterable<StatementEvent>): Promise<Statement[]> {
  const out: Statement[] = [];
  let lines: StatementLine[] = [];
  for await (const event of events) {
    switch (event.type) {
      case 'statement-start':
        lines = [];
        break;
      case 'line':
        lines.push(event.line);
        break;
      case 'statement-end': {
        const { lineCount: _count, bookedTotal: _total, otherCurrencies: _other, ...head } = event.summary;
        out.push({ ...head, lines });
        lines = [];
        break;
      }
      default: {
        const never: never = event;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  }
  return out;
}

/** Keeps the running totals of one statement's lines while they stream past. */
export class LineTotals {
  private count = 0;
  private readonly booked = new Map<string, bigint>();

  /** Adds one line. */
  addLine(line: StatementLine): void {
    this.count++;
    if (line.status !== 'booked') return;
    const { currency, amount } = line.amount;
    this.booked.set(currency, (this.booked.get(currency) ?? 0n) + amount);
  }

  /** Completes a head into a summary. */
  summarize(head: StatementHead): StatementSummary {
    const currency = head.account.currency;
    return {
      ...head,
      lineCount: this.count,
      bookedTotal: money(this.booked.get(currency) ?? 0n, currency),
      otherCurrencies: [...this.booked.keys()].filter((c) => c !== currency),
    };
  }
}

/** Summarises a whole statement (for the balance check of an already collected one). */
export function summarizeStatement(statement: Statement): StatementSummary {
  const totals = new LineTotals();
  for (const line of statement.lines) totals.addLine(line);
  const { lines: _lines, ...head } = statement;
  return totals.summarize(head);
}
