// Bank statement formats: streaming, pure parsers from bytes to canonical statements
// (camt.052/053/054, MT940/MT942, CSV by profile), format detection and the balance check.
import { ErrorCodes, type Statement } from '../domain/index.ts';
import { StatementParseError } from './errors.ts';
import { type StatementEvent, collectStatements } from './events.ts';
import type { ParseOptions, StatementInput } from './input.ts';
import { readCamtEvents } from './iso20022/camt/parse.ts';
import { readMt940Events } from './mt940/parse.ts';
import { type CsvParseOptions, readCsvEvents } from './csv/parse.ts';

export * from './errors.ts';
export * from './events.ts';
export * from './balance-check.ts';
export * from './canonical-json.ts';
export { type ParseOptions, type StatementInput, type TextEncoding, DEFAULT_MAX_BYTES } from './input.ts';
export {
  csvProfileSchema,
  csvColumnSchema,
  type CsvProfile,
  type CsvProfileInput,
  type CsvColumn,
} from './csv/profile.ts';
export type { CsvParseOptions } from './csv/parse.ts';
export { readCamtEvents, readMt940Events, readCsvEvents };

/** The statement formats Kontor reads. */
export type StatementFormat = 'camt' | 'mt940' | 'csv';

/** Options of {@link parseStatements}; `csv` needs its profile. */
export type ParseStatementsOptions = ParseOptions & { csv?: Omit<CsvParseOptions, keyof ParseOptions> };

const utf8 = new TextDecoder('utf-8');

/** Guesses the format from the first bytes of a file (a few KiB are plenty); undefined when unsure. */
export function detectFormat(head: Uint8Array | string): StatementFormat | undefined {
  const text = (typeof head === 'string' ? head : utf8.decode(head.subarray(0, 8192))).replace(/^\uFEFF/, '');
  const start = text.trimStart();
  if (start.startsWith('<'))
    return /urn:iso:std:iso:20022:tech:xsd:camt\.05[234]|BkToCstmr/.test(text) || /<Document[\s>]/.test(text)
      ? 'camt'
      : undefined;
  if (
    /^\{1:|^:20:|^:940:|\r?\n:20:|\r?\n:61:|^:\d{2}[A-Z]?:/m.test(text) &&
    /:(20|25|60F|61|62F):/.test(text)
  )
    return 'mt940';
  const firstLine = start.split(/\r?\n/, 1)[0] ?? '';
  if (/[;,\t]/.test(firstLine)) return 'csv';
  return undefined;
}

/** Streams canonical statement events of a file in the given format. */
export function readStatementEvents(
  format: StatementFormat,
  input: StatementInput,
  options: ParseStatementsOptions = {},
): AsyncGenerator<StatementEvent> {
  switch (format) {
    case 'camt':
      return readCamtEvents(input, options);
    case 'mt940':
      return readMt940Events(input, options);
    case 'csv': {
      if (options.csv === undefined)
        throw new StatementParseError(
          'reading a CSV needs a mapping profile (options.csv.profile)',
          {},
          { code: ErrorCodes.STATEMENT_FORMAT_UNKNOWN },
        );
      return readCsvEvents(input, { ...options, ...options.csv });
    }
    default: {
      const never: never = format;
      throw new StatementParseError(
        `unknown statement format ${String(never)}`,
        {},
        { code: ErrorCodes.STATEMENT_FORMAT_UNKNOWN },
      );
    }
  }
}

/** Parses a whole file into canonical statements (collects the stream; use readStatementEvents for huge files). */
export async function parseStatements(
  format: StatementFormat,
  input: StatementInput,
  options: ParseStatementsOptions = {},
): Promise<Statement[]> {
  return collectStatements(readStatementEvents(format, input, options));
}
