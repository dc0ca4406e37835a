/** Payment references: normal form, ISO 11649 RF check digits, and the candidate tokens of a bank line's texts. */

const NON_ALNUM = /[^0-9A-Z]/g;
const RF_SHAPE = /^RF\d{2}[0-9A-Z]{1,21}$/;

/** Normal form of a reference: upper case, with spaces and punctuation removed ("inv/2026-0042" → "INV20260042"). */
export function normaliseReference(text: string): string {
  return text.toUpperCase().replace(NON_ALNUM, '');
}

/** True when a normalised reference has the shape of an ISO 11649 creditor reference (RF, 2 digits, 1–21 alphanumerics). */
export function isRfShaped(normalised: string): boolean {
  return RF_SHAPE.test(normalised);
}

// ISO 7064 mod 97-10 over the alphanumeric string, letters as 10..35, folded digit by digit so
// no bigint is needed (the running remainder stays below 97 * 100).
function mod97(text: string): number {
  let r = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97;
    else r = (r * 100 + (c - 55)) % 97;
  }
  return r;
}

/** True when a normalised RF reference has valid ISO 11649 check digits (mod 97 of body + "RF" + digits is 1). */
export function hasValidRfCheckDigits(normalised: string): boolean {
  if (!isRfShaped(normalised)) return false;
  return mod97(normalised.slice(4) + normalised.slice(0, 4)) === 1;
}

/** Builds an ISO 11649 creditor reference with correct check digits from its body ("539007547034" → "RF18539007547034"). */
export function createRfReference(body: string): string {
  const b = normaliseReference(body);
  const check = 98 - mod97(`${b}RF00`);
  return `RF${String(check).padStart(2, '0')}${b}`;
}

/** The body of an RF reference (what follows "RFnn"), used to recognise a reference whose check digits were mistyped. */
export function rfBody(normalised: string): string {
  return normalised.slice(4);
}

/** Prints a normalised RF reference in groups of four, as it is printed on invoices ("RF18 5390 0754 7034"). */
export function formatRfReference(normalised: string): string {
  return normalised.replace(/(.{4})(?=.)/g, '$1 ');
}

// Shorter keys ("42", "INV") would hit unrelated invoices through free text; real references are longer.
/** The shortest normalised reference the engine indexes or looks up. */
export const MIN_REFERENCE_LENGTH = 5;

// Payers split references with spaces ("RF18 5390 0754 7034", "INV 2026 0042"), so adjacent tokens are
// joined; an RF reference has at most 25 characters, i.e. up to 7 groups of four.
const MAX_JOIN = 4;
const MAX_RF_JOIN = 7;

const NOT_KEPT = /[^0-9A-Z\s,;]+/g;
const SEPARATOR_RUNS = /[\s,;]+/g;

/**
 * The normalised candidate references in free texts: each token and each run of adjacent tokens
 * up to `maxLength` characters, without duplicates. Texts are not joined with each other.
 */
export function extractReferenceCandidates(texts: readonly (string | undefined)[], maxLength = 35): string[] {
  const out = new Set<string>();
  for (const text of texts) {
    if (text === undefined || text.length === 0) continue;
    // One normalised string per text, candidates sliced out of it: slices of a flat string hash
    // without copying, where joined token strings would be rebuilt for every Map lookup.
    const cleaned = text.toUpperCase().replace(NOT_KEPT, '');
    const flat = cleaned.replace(SEPARATOR_RUNS, '');
    const starts: number[] = [];
    let length = 0;
    let inToken = false;
    for (let i = 0; i < cleaned.length; i++) {
      const c = cleaned.charCodeAt(i);
      // After cleaning, anything but A–Z and 0–9 is a separator.
      if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90))) {
        inToken = false;
      } else {
        if (!inToken) starts.push(length);
        inToken = true;
        length++;
      }
    }
    starts.push(length);
    for (let i = 0; i + 1 < starts.length; i++) {
      const from = starts[i]!;
      const limit = flat.startsWith('RF', from) ? MAX_RF_JOIN : MAX_JOIN;
      for (let j = i + 1; j < starts.length && j <= i + limit; j++) {
        const to = starts[j]!;
        if (to - from > maxLength) break;
        if (to - from >= MIN_REFERENCE_LENGTH) out.add(flat.slice(from, to));
      }
    }
  }
  return [...out];
}
