/**
 * A faster IBAN check for parsers that meet one counterparty IBAN per line: the same verdict as
 * the domain's `isIban` (ibantools' `validateIBAN`, country table and national checks included),
 * but with the mod-97 computed on character codes instead of through string rewriting.
 *
 * No cache of answers: its keys would be slices of the parser's text chunks and keep whole
 * chunks alive long enough to be promoted, which raised the parser's peak RSS by some 40 MB.
 */
import { countrySpecs } from 'ibantools';
import { isIban } from '../domain/index.ts';

const bbanFormats = new Map<string, RegExp>();

/** Remainder mod 97 of `text` read as the IBAN number (letters A–Z count as 10–35). */
function mod97(text: string): number {
  let rest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) rest = (rest * 10 + (c - 48)) % 97;
    else rest = (rest * 100 + (c - 55)) % 97;
  }
  return rest;
}

function check(iban: string): boolean {
  const spec = countrySpecs[iban.slice(0, 2)];
  if (spec === undefined || (spec.bban_regexp === undefined && spec.chars === undefined)) return false;
  if (spec.chars !== undefined && spec.chars !== iban.length) return false;
  const bban = iban.slice(4);
  if (spec.bban_regexp !== undefined) {
    let format = bbanFormats.get(spec.bban_regexp);
    if (format === undefined) {
      format = new RegExp(spec.bban_regexp);
      bbanFormats.set(spec.bban_regexp, format);
    }
    if (!format.test(bban)) return false;
  }
  if (spec.bban_validation_func !== undefined && !spec.bban_validation_func(bban)) return false;
  const c0 = iban.charCodeAt(2);
  const c1 = iban.charCodeAt(3);
  if (!(c0 >= 48 && c0 <= 57 && c1 >= 48 && c1 <= 57)) return false;
  // ibantools' rule: 98 − (BBAN + country + "00") mod 97 must equal the check digits exactly.
  return 98 - mod97(`${bban}${iban.slice(0, 2)}00`) === (c0 - 48) * 10 + (c1 - 48);
}

/** True when `iban` (upper case, no spaces) is a valid IBAN; anything unusual goes to `isIban`. */
export function isIbanQuick(iban: string): boolean {
  return /^[A-Z]{2}[0-9A-Z]{2,32}$/.test(iban) ? check(iban) : isIban(iban);
}
