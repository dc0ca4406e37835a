/**
 * The SEPA character set and the transliteration into it. EPC Implementation Guidelines for
 * the SEPA Credit Transfer (EPC132-08, section 1.4 "Character set") allow only the Latin
 * characters below; banks may reject a whole file for one character outside it, so every name
 * and remittance text is transliterated before it is written.
 */

/** Characters every SEPA bank accepts (EPC132-08 §1.4): a-z A-Z 0-9 / - ? : ( ) . , ' + and space. */
export const SEPA_BASIC_CHARACTERS = /^[A-Za-z0-9/\-?:().,'+ ]*$/;

/**
 * Explicit replacements, checked before the generic accent stripping. German umlauts use the
 * two-letter form (ä→ae) that DIN 5007-2 and the German banks' DK guidelines prescribe, so names
 * stay recognisable; symbols map to the nearest allowed character.
 */
export const SEPA_TRANSLITERATIONS: Readonly<Record<string, string>> = Object.freeze({
  // German (DK "Anlage 3": Umlaut → two letters, ß → ss)
  ä: 'ae',
  ö: 'oe',
  ü: 'ue',
  Ä: 'Ae',
  Ö: 'Oe',
  Ü: 'Ue',
  ß: 'ss',
  ẞ: 'SS',
  // Ligatures and letters that have no combining-mark decomposition
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  å: 'a',
  Å: 'A',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'TH',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  ı: 'i',
  ħ: 'h',
  Ħ: 'H',
  // Symbols: EPC allows "+" but not "&"; currency signs become their letters
  '&': '+',
  '€': 'E',
  '£': 'GBP',
  $: 'USD',
  '@': '(at)',
  '#': 'No.',
  '%': ' pct',
  '*': '.',
  '"': "'",
  '‘': "'",
  '’': "'",
  '‚': ',',
  '“': "'",
  '”': "'",
  '„': "'",
  '«': "'",
  '»': "'",
  '`': "'",
  '´': "'",
  '–': '-',
  '—': '-',
  '‐': '-',
  '‑': '-',
  '−': '-',
  _: '-',
  '\\': '/',
  '|': '/',
  '[': '(',
  ']': ')',
  '{': '(',
  '}': ')',
  '<': '(',
  '>': ')',
  ';': ',',
  '!': '.',
  '=': '-',
  '~': '-',
  '^': '',
  '°': 'o',
  '·': '.',
  '…': '...',
  // White space of every kind is one plain space
  '\t': ' ',
  '\n': ' ',
  '\r': ' ',
  '\u00a0': ' ',
  '\u2009': ' ',
  '\u202f': ' ',
});

/** Cyrillic letters transliterated by ICAO Doc 9303 (the passport standard), so Russian, Ukrainian and Bulgarian names stay readable. */
const CYRILLIC: Readonly<Record<string, string>> = Object.freeze({
  а: 'a',
  б: 'b',
  в: 'v',
  г: 'g',
  ґ: 'g',
  д: 'd',
  е: 'e',
  ё: 'e',
  є: 'ie',
  ж: 'zh',
  з: 'z',
  и: 'i',
  і: 'i',
  ї: 'i',
  й: 'i',
  к: 'k',
  л: 'l',
  м: 'm',
  н: 'n',
  о: 'o',
  п: 'p',
  р: 'r',
  с: 's',
  т: 't',
  у: 'u',
  ф: 'f',
  х: 'kh',
  ц: 'ts',
  ч: 'ch',
  ш: 'sh',
  щ: 'shch',
  ъ: 'ie',
  ы: 'y',
  ь: '',
  э: 'e',
  ю: 'iu',
  я: 'ia',
});

function transliterateChar(ch: string): string {
  if (SEPA_BASIC_CHARACTERS.test(ch)) return ch;
  const explicit = SEPA_TRANSLITERATIONS[ch];
  if (explicit !== undefined) return explicit;
  const lower = ch.toLowerCase();
  const cyrillic = CYRILLIC[lower];
  if (cyrillic !== undefined) {
    if (ch === lower || cyrillic === '') return cyrillic;
    return cyrillic.charAt(0).toUpperCase() + cyrillic.slice(1);
  }
  // é → e + U+0301: keep the base letter when it is in the set, drop the accent.
  const base = ch.normalize('NFD').replace(/\p{M}+/gu, '');
  if (base !== ch && SEPA_BASIC_CHARACTERS.test(base)) return base;
  // Emoji, CJK, control characters…: nothing in the set stands for them, so they go.
  return '';
}

/**
 * Transliterates text into the SEPA basic character set (table above, then accent stripping,
 * then dropping what is left), collapses runs of spaces and trims; the result matches
 * {@link SEPA_BASIC_CHARACTERS} and is at most `maxLength` characters long.
 */
export function toSepaText(input: string, maxLength = 140): string {
  // Fast path: most names and references are already plain Latin.
  if (SEPA_BASIC_CHARACTERS.test(input))
    return input.replace(/ {2,}/g, ' ').trim().slice(0, maxLength).trimEnd();
  let out = '';
  // for…of walks code points, so an emoji's surrogate pair is one character here.
  for (const ch of input.normalize('NFC')) out += transliterateChar(ch);
  return out.replace(/ {2,}/g, ' ').trim().slice(0, maxLength).trimEnd();
}

/** True when the text is non-empty and uses only the SEPA basic characters. */
export function isSepaText(input: string): boolean {
  return input.length > 0 && SEPA_BASIC_CHARACTERS.test(input);
}

/**
 * Why `id` cannot be a SEPA reference (MsgId, PmtInfId, EndToEndId), or undefined when it can:
 * EPC132-08 §1.4 forbids a leading or trailing "/" and "//" anywhere, on top of the character set.
 */
export function sepaIdentifierProblem(id: string, maxLength = 35): string | undefined {
  if (id.length === 0) return 'is empty';
  if (id.length > maxLength) return `is longer than ${maxLength} characters`;
  if (!SEPA_BASIC_CHARACTERS.test(id)) return 'has characters outside the SEPA character set';
  if (id.startsWith('/') || id.endsWith('/')) return 'starts or ends with "/"';
  if (id.includes('//')) return 'contains "//"';
  return undefined;
}

/**
 * True when `reference` is a valid ISO 11649 structured creditor reference ("RF" + 2 check
 * digits + up to 21 alphanumerics; mod 97 = 1 after moving the first four characters to the end).
 */
export function isRfCreditorReference(reference: string): boolean {
  const ref = reference.replace(/\s+/g, '').toUpperCase();
  if (!/^RF\d{2}[A-Z0-9]{1,21}$/.test(ref)) return false;
  const rearranged = ref.slice(4) + ref.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const digits = /\d/.test(ch) ? ch : String(ch.charCodeAt(0) - 55);
    for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97;
  }
  return remainder === 1;
}
