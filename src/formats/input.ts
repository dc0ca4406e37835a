/** Input plumbing shared by the parsers: chunk sources, a size limit, and byte-level line splitting. */
import { ErrorCodes } from '../domain/index.ts';
import { StatementParseError } from './errors.ts';

/** What a parser reads: a whole string or bytes, or a (possibly async) sequence of chunks. */
export type StatementInput =
  string | Uint8Array | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

/** Character sets banks send text formats in. */
export type TextEncoding = 'utf-8' | 'latin1' | 'cp1252' | 'auto';

/** Options every parser takes. */
export interface ParseOptions {
  /** Inputs larger than this many bytes are rejected with FILE_TOO_LARGE; default 256 MiB. */
  maxBytes?: number;
  /** Character set of text formats (MT940, CSV); `auto` takes UTF-8 where valid, else cp1252. */
  encoding?: TextEncoding;
}

/** Default size limit: 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array | string> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

const PIECE_BYTES = 1024 * 1024;

/** Yields the input as chunks, rejecting it once it grows past `maxBytes`. */
export async function* readChunks(
  input: StatementInput,
  maxBytes = DEFAULT_MAX_BYTES,
): AsyncGenerator<Uint8Array | string> {
  let seen = 0;
  const check = (chunk: Uint8Array | string): void => {
    // A string's length in UTF-16 units is a lower bound of its UTF-8 size; good enough for a guard.
    seen += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
    if (seen > maxBytes) {
      throw new StatementParseError(
        `file is larger than the limit of ${maxBytes} bytes`,
        {},
        { code: ErrorCodes.FILE_TOO_LARGE },
      );
    }
  };
  if (typeof input === 'string') {
    check(input);
    yield input;
    return;
  }
  if (input instanceof Uint8Array) {
    check(input);
    // A whole file in memory is handed on in pieces: parsers then decode and hold one piece of
    // text at a time instead of a second copy of the file.
    for (let at = 0; at < input.byteLength; at += PIECE_BYTES) yield input.subarray(at, at + PIECE_BYTES);
    return;
  }
  if (isAsyncIterable(input)) {
    for await (const chunk of input) {
      check(chunk);
      yield chunk;
    }
    return;
  }
  for (const chunk of input) {
    check(chunk);
    yield chunk;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');
const cp1252 = new TextDecoder('windows-1252');
const textEncoder = new TextEncoder();

/** Decodes one line in the given encoding; `auto` falls back to cp1252 where UTF-8 is invalid. */
export function decodeLine(bytes: Uint8Array, encoding: TextEncoding): string {
  switch (encoding) {
    case 'utf-8':
      return utf8Lenient.decode(bytes);
    case 'latin1':
    case 'cp1252':
      // WHATWG maps latin1 to windows-1252 too; banks that say latin1 mostly mean it.
      return cp1252.decode(bytes);
    case 'auto': {
      let ascii = true;
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i]! > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) return cp1252.decode(bytes);
      try {
        return utf8.decode(bytes);
      } catch {
        return cp1252.decode(bytes);
      }
    }
    default: {
      const never: never = encoding;
      throw new Error(`unknown encoding ${String(never)}`);
    }
  }
}

/** One line of a text file, without its line ending, numbered from 1. */
export interface TextLine {
  text: string;
  number: number;
}

/** Splits chunks into lines at LF (dropping a CR before it, and a lone CR line end), decoding each line; yields the lines of each chunk together. */
export async function* readLines(
  chunks: AsyncIterable<Uint8Array | string>,
  encoding: TextEncoding,
): AsyncGenerator<TextLine[]> {
  let carry: Uint8Array = new Uint8Array(0);
  let number = 0;
  const emit = (bytes: Uint8Array, out: TextLine[]): void => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    number++;
    out.push({ text: decodeLine(end === bytes.length ? bytes : bytes.subarray(0, end), encoding), number });
  };
  // Batching a chunk's lines saves one promise round trip per line.
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? textEncoder.encode(chunk) : chunk;
    let data: Uint8Array;
    if (carry.length > 0) {
      data = new Uint8Array(carry.length + bytes.length);
      data.set(carry, 0);
      data.set(bytes, carry.length);
    } else {
      data = bytes;
    }
    const out: TextLine[] = [];
    let start = 0;
    for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, start)) {
      splitOnCarriageReturns(data.subarray(start, i), out, emit);
      start = i + 1;
    }
    carry = data.slice(start);
    if (out.length > 0) yield out;
  }
  if (carry.length > 0) {
    const out: TextLine[] = [];
    splitOnCarriageReturns(carry, out, emit);
    yield out;
  }
}

function splitOnCarriageReturns(
  bytes: Uint8Array,
  out: TextLine[],
  emit: (b: Uint8Array, out: TextLine[]) => void,
): void {
  // Old Mac-style files end lines with a lone CR; a CR right before LF is handled in `emit`.
  let start = 0;
  for (let i = bytes.indexOf(0x0d); i !== -1 && i < bytes.length - 1; i = bytes.indexOf(0x0d, start)) {
    emit(bytes.subarray(start, i), out);
    start = i + 1;
  }
  emit(bytes.subarray(start), out);
}
