import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { countrySpecs } from 'ibantools';
import { isIban } from '../domain/index.ts';
import { isIbanQuick } from './iban-check.ts';

function withCheckDigits(country: string, bban: string): string {
  let rest = 0;
  for (const ch of `${bban}${country}00`) {
    const c = ch.charCodeAt(0);
    rest = c <= 57 ? (rest * 10 + (c - 48)) % 97 : (rest * 100 + (c - 55)) % 97;
  }
  return `${country}${String(98 - rest).padStart(2, '0')}${bban}`;
}

describe('isIbanQuick', () => {
  it('agrees with the domain isIban on real, corrupted and random IBANs', () => {
    const known = [
      'DE89370400440532013000',
      'GB82WEST12345698765432',
      'NL91ABNA0417164300',
      'BE68539007547034',
      'FR1420041010050500013M02606',
      'CH9300762011623852957',
      'NO9386011117947',
      'DE00370400440532013000',
      'DE01370400440532013000',
      'DE99370400440532013000',
      'XX89370400440532013000',
      'DE8937040044053201300',
      'DEAB370400440532013000',
    ];
    for (const iban of known) assert.equal(isIbanQuick(iban), isIban(iban), iban);
    const countries = Object.keys(countrySpecs);
    fc.assert(
      fc.property(
        fc.constantFrom(...countries),
        fc.stringMatching(/^[0-9A-Z]{8,30}$/),
        fc.boolean(),
        (country, bban, fix) => {
          const iban = fix ? withCheckDigits(country, bban) : `${country}42${bban}`;
          assert.equal(isIbanQuick(iban), isIban(iban), iban);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees on valid IBANs of every country whose length it knows', () => {
    let checked = 0;
    for (const [country, spec] of Object.entries(countrySpecs)) {
      if (spec.chars === undefined) continue;
      const iban = withCheckDigits(country, '0'.repeat(spec.chars - 4));
      assert.equal(isIbanQuick(iban), isIban(iban), iban);
      checked++;
    }
    assert.ok(checked > 50);
  });
});
