import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createChunkDecoder } from './chunk-decoder.ts';

function decodeInPieces(bytes: Uint8Array, cuts: number[]): string {
  const d = createChunkDecoder();
  let out = '';
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    out += d.decode(bytes.subarray(start, cut));
    start = cut;
  }
  out += d.decode(bytes.subarray(start));
  return out + d.end();
}

describe('createChunkDecoder', () => {
  it('gives the same text however UTF-8 bytes are cut, multi-byte characters included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.array(fc.nat()), (text, raw) => {
        const bytes = new TextEncoder().encode(`<?xml version="1.0"?><a>${text}</a>`);
        const cuts = raw.map((n) => n % (bytes.length + 1));
        assert.equal(decodeInPieces(bytes, cuts), new TextDecoder().decode(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('drops a byte order mark only at the start of the file', () => {
    const bom = [0xef, 0xbb, 0xbf];
    const bytes = new Uint8Array([...bom, ...new TextEncoder().encode('<a>x'), ...bom, 0x3c]);
    assert.equal(decodeInPieces(bytes, [7]), '<a>x\uFEFF<');
  });

  it('reads a Latin-1 file by its declaration, and ends a cut-off character with a replacement', () => {
    const latin = new Uint8Array([
      ...new TextEncoder().encode('<?xml version="1.0" encoding="ISO-8859-1"?><a>'),
      0xfc,
      0x3c,
    ]);
    assert.equal(
      decodeInPieces(latin, [latin.length - 1]),
      '<?xml version="1.0" encoding="ISO-8859-1"?><a>ü<',
    );
    assert.equal(decodeInPieces(new Uint8Array([0x3c, 0xe2, 0x82]), [2]), '<\uFFFD');
  });
});
