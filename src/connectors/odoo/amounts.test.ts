import assert from 'node:assert/strict';
import { test } from 'node:test';
import { money } from '../../domain/index.ts';
import { fromOdooAmount, toOdooDecimal, toOdooNumber } from './amounts.ts';

test('reads Odoo floats into minor units of the currency exponent', () => {
  assert.equal(fromOdooAmount(249.5, 'EUR').amount, 24950n);
  assert.equal(fromOdooAmount(-12.34, 'EUR').amount, -1234n);
  assert.equal(fromOdooAmount(1500, 'JPY').amount, 1500n);
  assert.equal(fromOdooAmount(1.234, 'KWD').amount, 1234n);
  assert.equal(fromOdooAmount(false, 'EUR').amount, 0n);
});

test('rounds float noise half-even from the decimal string, never by float arithmetic', () => {
  assert.equal(fromOdooAmount(0.1 + 0.2, 'EUR').amount, 30n);
  assert.equal(fromOdooAmount(1.005, 'EUR').amount, 100n);
  assert.equal(fromOdooAmount(1.015, 'EUR').amount, 102n);
  assert.equal(fromOdooAmount(2.5, 'JPY').amount, 2n);
  assert.equal(fromOdooAmount(3.5, 'JPY').amount, 4n);
  assert.equal(fromOdooAmount(1e-7, 'EUR').amount, 0n);
  assert.equal(fromOdooAmount(1e21, 'EUR').amount, 100000000000000000000000n);
  assert.equal(fromOdooAmount('-0.005', 'EUR').amount, 0n);
});

test('sends exact decimal strings and numbers made from them', () => {
  assert.equal(toOdooDecimal(money(-123450n, 'EUR')), '-1234.50');
  assert.equal(toOdooNumber(money(1n, 'EUR')), 0.01);
  assert.equal(toOdooNumber(money(1234n, 'KWD')), 1.234);
});
