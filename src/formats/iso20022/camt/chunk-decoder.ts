/**
 * Decodes an XML file's byte chunks to text. A whole-buffer `TextDecoder.decode` is several times
 * faster than a streaming one (`{ stream: true }` leaves the fast UTF-8 path), so each chunk is
 * decoded on its own and an incomplete UTF-8 sequence at its end is carried over to the next.
 */

const LEGACY = /^(iso-8859-1|iso-8859-15|latin1|windows-1252|cp1252)$/;

/** Length of the complete UTF-8 text at the start of `bytes` (all of it unless it ends mid-character). */
function completeLength(bytes: Uint8Array): number {
  const end = bytes.length;
  let i = end - 1;
  // Step back over at most three continuation bytes (10xxxxxx) to the lead byte.
  while (i >= 0 && end - i <= 3 && (bytes[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return end;
  const lead = bytes[i]!;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return end - i < size ? i : end;
}

/** A decoder for one file: `decode` each chunk in order, then `end` for what is left. */
export interface ChunkDecoder {
  decode(bytes: Uint8Array): string;
  end(): string;
}

/** Creates a decoder; the encoding comes from the XML declaration of the first chunk (UTF-8 unless a Latin-1 family). */
export function createChunkDecoder(): ChunkDecoder {
  let first: InstanceType<typeof TextDecoder> | undefined;
  let rest: InstanceType<typeof TextDecoder> | undefined;
  let utf8 = true;
  let carry: Uint8Array | undefined;
  return {
    decode(bytes) {
      if (first === undefined) {
        // The XML declaration names the encoding; banks use UTF-8, a few still ISO-8859-1.
        const declared = /^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9_.-]+)["']/
          .exec(new TextDecoder('latin1').decode(bytes.subarray(0, 200)))?.[1]
          ?.toLowerCase();
        utf8 = declared === undefined || !LEGACY.test(declared);
        first = new TextDecoder(utf8 ? 'utf-8' : 'windows-1252');
        // Only the file's first chunk may start with a byte order mark to drop.
        rest = new TextDecoder(utf8 ? 'utf-8' : 'windows-1252', { ignoreBOM: true });
        return decodeWith(first, bytes);
      }
      return decodeWith(rest!, bytes);
    },
    end() {
      // A file that ends mid-character: the decoder's replacement character, as a stream would give.
      const left = carry;
      carry = undefined;
      return left === undefined ? '' : rest!.decode(left);
    },
  };

  function decodeWith(decoder: InstanceType<typeof TextDecoder>, bytes: Uint8Array): string {
    let data = bytes;
    if (carry !== undefined) {
      data = new Uint8Array(carry.length + bytes.length);
      data.set(carry, 0);
      data.set(bytes, carry.length);
      carry = undefined;
    }
    if (!utf8) return decoder.decode(data);
    const end = completeLength(data);
    if (end < data.length) carry = data.slice(end);
    return decoder.decode(end === data.length ? data : data.subarray(0, end));
  }
}
