import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ErrorCodes, formatMoney } from '../../../domain/index.ts';
import { fixtureDir, listFixtures } from '../../__fixtures__/fixtures.ts';
import { checkBalance } from '../../balance-check.ts';
import { StatementParseError } from '../../errors.ts';
import { collectStatements, summarizeStatement } from '../../events.ts';
import { readCamtEvents } from './parse.ts';

/** Fixtures that must be rejected, with the code and the reason. */
const REJECTED: Record<string, { code: string; reason: RegExp }> = {
  'genkgo-camt__camt053.v2.wrong.xml': {
    code: ErrorCodes.STATEMENT_PARSE_FAILED,
    reason: /camt\.053 message holds no Stmt/,
  },
  'ofxst-iso20022__unsupported.xml': {
    code: ErrorCodes.XML_NAMESPACE_UNSUPPORTED,
    reason: /unsupported namespace "urn:weird-namespace"/,
  },
  'viafintech-camt__invalid_namespace.xml': {
    code: ErrorCodes.STATEMENT_PARSE_FAILED,
    reason: /Document holds no camt message/,
  },
  'hbci4j__test-camt-parse-invalid.xml': {
    code: ErrorCodes.XML_NAMESPACE_UNSUPPORTED,
    reason: /unsupported namespace "urn:iso:std:iso:20022:tech:xsd:camt"/,
  },
  'hbci4j__test-camt-parse-5200108-invalid-saldo.xml': {
    code: ErrorCodes.STATEMENT_PARSE_FAILED,
    reason: /"100\.0000000000005" has 13 decimals but EUR has 2/,
  },
  'dvbern__invalid_camt_054_Beispiel_NotificationMissing.xml': {
    code: ErrorCodes.XML_NAMESPACE_UNSUPPORTED,
    reason: /Document has no namespace/,
  },
};

/** Statements whose sample data do not balance (opening + booked ≠ closing): the check must say so. */
const UNBALANCED: Record<string, string[]> = {
  'genkgo-camt__camt053.v2.all-balance-types.xml': ['CAMT0532015012200001'],
  'iso20022js__goldman_sachs_camt_053_uk_v2_1.xml': ['9740092650'],
  'moov-iso__camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml': ['20201124375204229003973'],
  'oca-bsi__test-camt053.xml': ['1234Test/1'],
  'viafintech-camt__053_valid_example_with_batch.xml': ['2019062434566666666666666'],
  'viafintech-camt__053_valid_example_with_debit.xml': ['0352C5320131227220503'],
  'viafintech-camt__053_valid_example_with_instdamt.xml': ['STM-C053-190720325942-06'],
};

async function parse(input: string | Uint8Array | Iterable<string | Uint8Array>) {
  return collectStatements(readCamtEvents(input));
}

async function rejection(input: string): Promise<StatementParseError> {
  try {
    await parse(input);
  } catch (e) {
    assert.ok(e instanceof StatementParseError, `expected a StatementParseError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the input to be rejected');
}

for (const kind of ['camt053', 'camt052', 'camt054']) {
  describe(`${kind} fixtures`, () => {
    for (const file of listFixtures(kind, readdirSync)) {
      const expected = REJECTED[file];
      if (expected !== undefined) {
        it(`rejects ${file} with a reason`, async () => {
          await assert.rejects(parse(readFileSync(fixtureDir(kind) + file)), (e: unknown) => {
            assert.ok(e instanceof StatementParseError);
            assert.equal(e.code, expected.code);
            assert.match(e.message, expected.reason);
            assert.ok(
              e.location.line !== undefined && e.location.path !== undefined,
              'the error names line and XML path',
            );
            return true;
          });
        });
        continue;
      }
      it(`parses ${file} and checks its balances`, async () => {
        const statements = await parse(readFileSync(fixtureDir(kind) + file));
        assert.ok(statements.length > 0);
        const unbalanced: string[] = [];
        for (const s of statements) {
          assert.equal(
            s.kind,
            kind === 'camt053' ? 'statement' : kind === 'camt052' ? 'report' : 'notification',
          );
          assert.ok(s.account.iban !== undefined || s.account.accountNumber !== undefined);
          for (const line of s.lines) assert.match(line.bookingDate, /^\d{4}-\d{2}-\d{2}$/);
          const check = checkBalance(summarizeStatement(s));
          if (check.status === 'unbalanced') {
            unbalanced.push(s.statementId);
            assert.equal(check.error.code, ErrorCodes.STATEMENT_UNBALANCED);
            assert.match(check.error.message, /does not balance/);
          }
        }
        assert.deepEqual(unbalanced, UNBALANCED[file] ?? []);
      });
    }
  });
}

describe('camt parser details', () => {
  it('reads batch entries with several TxDtls as one line with its transactions', async () => {
    const [s] = await parse(
      readFileSync(
        `${fixtureDir('camt054')}dvbern__camt.054-ES_P_CH0309000000250090342_2016052723011813.xml`,
      ),
    );
    const line = s!.lines[0]!;
    assert.equal(line.transactions?.length, 8);
    const sum = line.transactions?.reduce((a, t) => a + (t.amount?.amount ?? 0n), 0n) ?? 0n;
    assert.equal(sum, line.amount.amount);
  });

  it('reads v8 <Sts><Cd>, counterparty, structured and unstructured remittance', async () => {
    const [s] = await parse(readFileSync(`${fixtureDir('camt053')}genkgo-camt__camt053.v8.xml`));
    const line = s!.lines[0]!;
    assert.equal(line.status, 'booked');
    assert.equal(s!.format, 'camt.053.001.08');
  });

  it('reads the instructed amount', async () => {
    const [s] = await parse(
      readFileSync(`${fixtureDir('camt053')}viafintech-camt__053_valid_example_with_instdamt.xml`),
    );
    const line = s!.lines[0]!;
    assert.equal(formatMoney(line.instructedAmount!), '4500.00');
    assert.equal(line.instructedAmount!.currency, 'CHF');
  });

  it('keeps DBIT entries negative and CRDT positive, exactly', async () => {
    const [s] = await parse(
      readFileSync(`${fixtureDir('camt053')}viafintech-camt__053_valid_example_with_debit.xml`),
    );
    assert.ok(s!.lines.some((l) => l.amount.amount < 0n));
    assert.equal(formatMoney(s!.openingBalance!.amount), '-33.06');
  });

  it('gives the same result however the input is chunked', async () => {
    const bytes = readFileSync(`${fixtureDir('camt053')}viafintech-camt__053_valid_example_v4.xml`);
    const whole = await parse(bytes);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    assert.deepEqual(await parse(chunks), whole);
  });
});

describe('hostile camt input', () => {
  const head = '<?xml version="1.0"?>\n';
  const doc = (body: string) =>
    `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>${body}</Stmt></BkToCstmrStmt></Document>`;
  const entry = (amount: string) =>
    `<Ntry><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt></Ntry>`;

  it('rejects a billion-laughs DOCTYPE before expanding anything', async () => {
    const laughs = `${head}<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n${doc('<AddtlStmtInf>&lol3;</AddtlStmtInf>')}`;
    const e = await rejection(laughs);
    assert.equal(e.code, ErrorCodes.XML_DOCTYPE_FORBIDDEN);
    assert.equal(e.location.line, 2);
  });

  it('rejects an XXE with a SYSTEM file entity', async () => {
    const xxe = `${head}<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n${doc('<AddtlStmtInf>&xxe;</AddtlStmtInf>')}`;
    const e = await rejection(xxe);
    assert.equal(e.code, ErrorCodes.XML_DOCTYPE_FORBIDDEN);
    assert.doesNotMatch(e.message, /root:/);
  });

  it('rejects an undeclared entity reference', async () => {
    const e = await rejection(`${head}${doc(`${entry('1.00')}<AddtlStmtInf>&xxe;</AddtlStmtInf>`)}`);
    assert.equal(e.code, ErrorCodes.STATEMENT_PARSE_FAILED);
    assert.match(e.message, /malformed XML/);
  });

  it('rejects a truncated file with its location', async () => {
    const full = `${head}${doc(entry('1.00') + entry('2.00'))}`;
    const e = await rejection(full.slice(0, full.length - 60));
    assert.equal(e.code, ErrorCodes.STATEMENT_PARSE_FAILED);
    assert.ok(e.location.line !== undefined);
  });

  it('rejects a malformed amount naming the entry path', async () => {
    const e = await rejection(`${head}${doc(entry('1.00') + entry('12,5O'))}`);
    assert.match(e.message, /not a decimal amount/);
    assert.equal(e.location.path, 'Document/BkToCstmrStmt/Stmt[1]/Ntry[2]');
  });

  it('keeps entities, CDATA and multi-byte text of kept elements however the bytes are chunked', async () => {
    const tx =
      '<NtryDtls><TxDtls><RmtInf><Ustrd>M\u00fcller &amp; S\u00f6hne <![CDATA[<ref 7>]]> \u20ac\ud83d\udcb6</Ustrd></RmtInf>' +
      '<RltdPties><Dbtr><Nm>A &lt;B&gt;</Nm><PstlAdr><Ctry>DE &amp; AT</Ctry></PstlAdr></Dbtr></RltdPties></TxDtls></NtryDtls>';
    const xml = `${head}${doc(`<AddtlStmtInf>not kept &amp; ignored</AddtlStmtInf>${entry('1.00').replace('</Ntry>', `${tx}</Ntry>`)}`)}`;
    const bytes = new TextEncoder().encode(xml);
    for (const size of [1, 2, 3, 5, 7, 64, bytes.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const [s] = await collectStatements(readCamtEvents(chunks));
      const line = s!.lines[0]!;
      assert.equal(
        line.remittanceInfo,
        'M\u00fcller & S\u00f6hne <ref 7> \u20ac\ud83d\udcb6',
        `chunks of ${size}`,
      );
      assert.equal(line.counterparty?.name, 'A <B>', `chunks of ${size}`);
    }
  });

  it('reads a file held in memory in pieces, a character cut at a piece boundary included', async () => {
    const long = '\u00e9'.repeat(700_000);
    // A leading space (trimmed away) or not, so that the first piece ends inside an é.
    const encode = (pad: string) =>
      new TextEncoder().encode(
        `${head}${doc(entry('1.00').replace('</Ntry>', `<AddtlNtryInf>${pad}${long}</AddtlNtryInf></Ntry>`))}`,
      );
    const bytes = [encode(''), encode(' ')].find((b) => (b[1024 * 1024]! & 0xc0) === 0x80)!;
    assert.ok(bytes.byteLength > 1024 * 1024);
    const [s] = await collectStatements(readCamtEvents(bytes));
    assert.equal(s!.lines[0]!.bookingText, long);
  });

  it('skips elements of another namespace in an unprefixed document', async () => {
    const [s] = await parse(
      `${head}${doc(entry('1.00').replace('</Ntry>', '<x:AddtlNtryInf xmlns:x="urn:other">foreign</x:AddtlNtryInf></Ntry>'))}`,
    );
    assert.equal(s!.lines[0]!.bookingText, undefined);
  });

  it('never reads amounts through floats', async () => {
    const [s] = await parse(`${head}${doc(entry('90071992547409.93'))}`);
    assert.equal(s!.lines[0]!.amount.amount, 9007199254740993n);
  });

  it('rejects input over the size limit', async () => {
    await assert.rejects(
      collectStatements(readCamtEvents(`${head}${doc(entry('1.00'))}`, { maxBytes: 100 })),
      (e: unknown) => {
        assert.ok(e instanceof StatementParseError);
        assert.equal(e.code, ErrorCodes.FILE_TOO_LARGE);
        return true;
      },
    );
  });
});

describe('camt encodings', () => {
  it('decodes a file that declares ISO-8859-1', async () => {
    const xml = `<?xml version="1.0" encoding="ISO-8859-1"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy><Nm>M\u00fcller</Nm></Acct></Stmt></BkToCstmrStmt></Document>`;
    const bytes = Uint8Array.from([...xml].map((c) => c.charCodeAt(0)));
    const [s] = await parse(bytes);
    assert.equal(s!.account.name, 'Müller');
  });
});
