import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { paymentStatusCodes, statusReasonCodes } from './codes.ts';
import { type Pain002Report, parsePain002, resolveTransactionStatuses } from './parse.ts';

const DIR = new URL('../../../../../shared/fixtures/pain002/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');

function parseOk(name: string): Pain002Report {
  const result = parsePain002(read(name));
  if (!result.ok) assert.fail(`${name}: ${result.error.message}`);
  return result.value;
}

// PROVENANCE.md marks these as NEGATIVE samples; each must be refused with a reason.
const NEGATIVE: Record<string, { code: string; reason: RegExp }> = {
  'moov-iso__invalid_pain_v11.xml': {
    code: 'STATUS_REPORT_PARSE_FAILED',
    reason: /no namespace and carries no status/,
  },
  'oca-ap__test-sepa-pain-unpaid-invalid.xml': {
    code: 'XML_NAMESPACE_UNSUPPORTED',
    reason: /other\.002\.001\.03/,
  },
};

void describe('parsePain002 on every fixture', () => {
  for (const name of readdirSync(DIR).sort()) {
    const negative = NEGATIVE[name];
    if (negative === undefined) {
      void it(`parses ${name}`, () => {
        const report = parseOk(name);
        assert.ok(report.messageId !== undefined && report.messageId !== '');
        assert.ok(report.version.startsWith('pain.002') || report.version === 'unversioned');
      });
    } else {
      void it(`rejects the negative sample ${name} with a reason`, () => {
        const result = parsePain002(read(name));
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.equal(result.error.code, negative.code);
        assert.match(result.error.message, negative.reason);
      });
    }
  }
});

void describe('parsePain002 details', () => {
  void it('reads transaction rejects with EndToEndId and reason codes in words (pain.002.001.03)', () => {
    const report = parseOk('oca-ap__test-sepa-pain-unpaid.xml');
    assert.equal(report.version, 'pain.002.001.03');
    assert.equal(report.originalMessageId, 'MSGID12345678912');
    const txs = report.paymentInfos.flatMap((p) => p.transactions);
    assert.deepEqual(
      txs.map((t) => [t.originalEndToEndId, t.status, t.reasons[0]?.code]),
      [
        ['E2EID1', 'RJCT', 'AC01'],
        ['E2EID2', 'RJCT', 'MS02'],
        ['E2EID3', 'RJCT', 'MD06'],
        ['E2EID4', 'RJCT', 'AM04'],
      ],
    );
    assert.match(txs[0]?.reasons[0]?.description ?? '', /incorrect account number/);
    assert.match(txs[3]?.reasons[0]?.description ?? '', /insufficient funds/);
    assert.equal(txs[0]?.reasons[0]?.originatorBic, 'BOFIIE2D');
  });

  void it('reads group status, per-status counts and multi-line AddtlInf (pain.002.001.10)', () => {
    const report = parseOk('hbci4j__test-pain-parse-0020110-02.xml');
    assert.equal(report.version, 'pain.002.001.10');
    assert.equal(report.groupStatus, 'RVMC');
    assert.equal(report.groupReasons[0]?.additionalInfo.length, 4);
    assert.deepEqual(report.numberOfTransactionsPerStatus[1], { status: 'RVNM', count: '1' });
    assert.equal(report.paymentInfos[0]?.transactions[0]?.status, 'RVNM');
  });

  void it('reads a partially accepted Swiss block with its rejected transaction', () => {
    const report = parseOk('moov-iso__pain002-epo_p_ch5109000000250092291_1110097605_0_2018031511252307.xml');
    assert.equal(report.version, 'pain.002.001.03.ch.02');
    assert.equal(report.paymentInfos[0]?.status, 'PART');
    const [tx] = resolveTransactionStatuses(report);
    assert.deepEqual(
      [tx?.originalEndToEndId, tx?.status, tx?.outcome, tx?.level],
      ['EndToEndId-001-03-04', 'RJCT', 'rejected', 'transaction'],
    );
    assert.deepEqual(tx?.reasons[0]?.additionalInfo, ['1301813;Konto ungültig']);
  });

  void it('accepts a Document without namespace that carries statuses, with a warning', () => {
    const report = parseOk('iso20022js__cross_river_pain_002_transaction_rejected.xml');
    assert.equal(report.version, 'pain.002.001.03');
    assert.match(report.warnings.join(), /no namespace.*Xmlns/);
    assert.deepEqual(report.paymentInfos[0]?.transactions[0]?.reasons[0]?.additionalInfo, [
      'Instruction ID example01234567 already exist',
    ]);
  });

  void it('inherits PmtInfSts and GrpSts for transactions without their own status', () => {
    const xml = `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-01-01T00:00:00</CreDtTm></GrpHdr>
      <OrgnlGrpInfAndSts><OrgnlMsgId>O</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId><GrpSts>ACSC</GrpSts></OrgnlGrpInfAndSts>
      <OrgnlPmtInfAndSts><OrgnlPmtInfId>P1</OrgnlPmtInfId><PmtInfSts>ACCP</PmtInfSts><TxInfAndSts><OrgnlEndToEndId>E1</OrgnlEndToEndId></TxInfAndSts></OrgnlPmtInfAndSts>
      <OrgnlPmtInfAndSts><OrgnlPmtInfId>P2</OrgnlPmtInfId><TxInfAndSts><OrgnlEndToEndId>E2</OrgnlEndToEndId><OrgnlTxRef><Amt><InstdAmt Ccy="EUR">12.30</InstdAmt></Amt></OrgnlTxRef></TxInfAndSts></OrgnlPmtInfAndSts>
      </CstmrPmtStsRpt></Document>`;
    const result = parsePain002(xml);
    assert.ok(result.ok);
    const resolved = resolveTransactionStatuses(result.value);
    assert.deepEqual(
      resolved.map((r) => [r.originalEndToEndId, r.status, r.level, r.outcome]),
      [
        ['E1', 'ACCP', 'payment-info', 'accepted'],
        ['E2', 'ACSC', 'group', 'settled'],
      ],
    );
    assert.deepEqual(result.value.paymentInfos[1]?.transactions[0]?.originalAmount, {
      amount: '12.30',
      currency: 'EUR',
    });
  });

  void it('refuses a DOCTYPE as a typed error, without expanding entities', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt><GrpHdr><MsgId>&x;</MsgId></GrpHdr></CstmrPmtStsRpt></Document>`;
    const result = parsePain002(xml);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, 'XML_DOCTYPE_FORBIDDEN');
  });

  void it('refuses malformed XML, a non-Document root, another message and an oversize file', () => {
    const cases: [string, string][] = [
      [
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>',
        'STATUS_REPORT_PARSE_FAILED',
      ],
      ['<Foo/>', 'STATUS_REPORT_PARSE_FAILED'],
      [
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrCdtTrfInitn/></Document>',
        'STATUS_REPORT_PARSE_FAILED',
      ],
      ['', 'STATUS_REPORT_PARSE_FAILED'],
    ];
    for (const [xml, code] of cases) {
      const result = parsePain002(xml);
      assert.equal(result.ok ? 'ok' : result.error.code, code, xml);
    }
    const big = parsePain002('<Document/>', { maxLength: 5 });
    assert.equal(big.ok ? 'ok' : big.error.code, 'FILE_TOO_LARGE');
  });
});

void describe('code tables', () => {
  void it('explain at least 30 reason codes and every status Kontor acts on', () => {
    assert.ok(Object.keys(statusReasonCodes).length >= 30);
    for (const code of ['AC01', 'AC04', 'AM04', 'MS03', 'AM05', 'RC01', 'FF01'])
      assert.ok(statusReasonCodes[code]?.description, code);
    for (const code of ['ACCP', 'ACSC', 'ACSP', 'ACTC', 'ACWC', 'PDNG', 'RJCT', 'PART'])
      assert.ok(paymentStatusCodes[code]?.description, code);
    assert.match(statusReasonCodes['AC04']?.description ?? '', /closed account/);
    assert.match(statusReasonCodes['MS03']?.description ?? '', /reason not specified/);
  });
});
