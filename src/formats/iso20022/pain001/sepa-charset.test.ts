import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRfCreditorReference, isSepaText, sepaIdentifierProblem, toSepaText } from './sepa-charset.ts';

void describe('toSepaText', () => {
  void it('transliterates German umlauts and sharp s to two letters', () => {
    assert.equal(toSepaText('Müller & Söhne — Straße 5 €'), 'Mueller + Soehne - Strasse 5 E');
  });

  void it('strips accents it has no explicit rule for', () => {
    assert.equal(toSepaText('Crème brûlée, Łódź, Ørsted'), 'Creme brulee, Lodz, Orsted');
  });

  void it('transliterates Cyrillic by ICAO 9303', () => {
    assert.equal(toSepaText('Иван Щукин'), 'Ivan Shchukin');
  });

  void it('drops emoji and CJK and collapses the spaces they leave', () => {
    assert.equal(toSepaText('Pay 😀 now 株式会社'), 'Pay now');
  });

  void it('never returns a character outside the SEPA set, for every BMP code point', () => {
    let all = '';
    for (let c = 0x20; c < 0xd800; c += 1) all += String.fromCharCode(c);
    const out = toSepaText(all, 100_000);
    assert.ok(isSepaText(out), 'output stays inside the set');
  });

  void it('cuts to the maximum length after transliteration', () => {
    assert.equal(toSepaText('ä'.repeat(100), 140).length, 140);
  });
});

void describe('sepaIdentifierProblem', () => {
  void it('accepts a plain id and rejects EPC-forbidden slashes', () => {
    assert.equal(sepaIdentifierProblem('ORD-2026-0001'), undefined);
    assert.match(sepaIdentifierProblem('/ORD') ?? '', /starts or ends/);
    assert.match(sepaIdentifierProblem('A//B') ?? '', /\/\//);
    assert.match(sepaIdentifierProblem('Bestellung-ä') ?? '', /character set/);
    assert.match(sepaIdentifierProblem('x'.repeat(36)) ?? '', /longer/);
  });
});

void describe('isRfCreditorReference', () => {
  void it('checks ISO 11649 check digits', () => {
    assert.equal(isRfCreditorReference('RF18539007547034'), true);
    assert.equal(isRfCreditorReference('RF18 5390 0754 7034'), true);
    assert.equal(isRfCreditorReference('RF19539007547034'), false);
    assert.equal(isRfCreditorReference('INV-1'), false);
  });
});
