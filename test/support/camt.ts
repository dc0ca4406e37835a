/** Small, valid camt.052/053 documents for flow tests (closing balance computed from the entries). */

export interface CamtEntry {
  ref?: string;
  /** Signed decimal: positive = credit. */
  amount: string;
  date: string;
  status?: 'BOOK' | 'PDNG';
  name?: string;
  iban?: string;
  remittance?: string;
  endToEndId?: string;
}

export interface CamtInput {
  kind?: '052' | '053';
  iban: string;
  currency?: string;
  statementId: string;
  opening?: string;
  entries: CamtEntry[];
  /** Overrides the computed closing balance (to make an unbalanced file). */
  closing?: string;
}

function cents(decimal: string): bigint {
  const [w, f = ''] = decimal.replace('-', '').split('.');
  const v = BigInt(w!) * 100n + BigInt(f.padEnd(2, '0'));
  return decimal.startsWith('-') ? -v : v;
}

function decimal(v: bigint): string {
  const a = v < 0n ? -v : v;
  return `${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

function balance(code: string, amount: bigint, currency: string, date: string): string {
  return `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="${currency}">${decimal(amount)}</Amt><CdtDbtInd>${amount < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>`;
}

/** Renders a camt.053.001.08 (or camt.052.001.08) document. */
export function makeCamt(input: CamtInput): string {
  const kind = input.kind ?? '053';
  const ccy = input.currency ?? 'EUR';
  const date = input.entries[0]?.date ?? '2026-11-20';
  const opening = cents(input.opening ?? '1000.00');
  const booked = input.entries
    .filter((e) => (e.status ?? 'BOOK') === 'BOOK')
    .reduce((a, e) => a + cents(e.amount), 0n);
  const closing = input.closing === undefined ? opening + booked : cents(input.closing);
  const root = kind === '053' ? 'BkToCstmrStmt' : 'BkToCstmrAcctRpt';
  const item = kind === '053' ? 'Stmt' : 'Rpt';
  const entries = input.entries
    .map((e) => {
      const credit = !e.amount.startsWith('-');
      const party = credit ? 'Dbtr' : 'Cdtr';
      return `<Ntry>${e.ref === undefined ? '' : ''}<Amt Ccy="${ccy}">${e.amount.replace('-', '')}</Amt><CdtDbtInd>${credit ? 'CRDT' : 'DBIT'}</CdtDbtInd><Sts><Cd>${e.status ?? 'BOOK'}</Cd></Sts><BookgDt><Dt>${e.date}</Dt></BookgDt><ValDt><Dt>${e.date}</Dt></ValDt>${e.ref === undefined ? '' : `<AcctSvcrRef>${e.ref}</AcctSvcrRef>`}<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>${e.endToEndId === undefined ? '' : `<EndToEndId>${e.endToEndId}</EndToEndId>`}</Refs><Amt Ccy="${ccy}">${e.amount.replace('-', '')}</Amt><CdtDbtInd>${credit ? 'CRDT' : 'DBIT'}</CdtDbtInd>${e.name === undefined ? '' : `<RltdPties><${party}><Pty><Nm>${e.name}</Nm></Pty></${party}>${e.iban === undefined ? '' : `<${party}Acct><Id><IBAN>${e.iban}</IBAN></Id></${party}Acct>`}</RltdPties>`}${e.remittance === undefined ? '' : `<RmtInf><Ustrd>${e.remittance}</Ustrd></RmtInf>`}</TxDtls></NtryDtls></Ntry>`;
    })
    .join('\n');
  const balances =
    kind === '053' || input.opening !== undefined
      ? `${balance(kind === '053' ? 'OPBD' : 'OPBD', opening, ccy, date)}${balance(kind === '053' ? 'CLBD' : 'CLBD', closing, ccy, date)}`
      : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.${kind}.001.08">
<${root}><GrpHdr><MsgId>MSG-${input.statementId}</MsgId><CreDtTm>${date}T18:00:00+01:00</CreDtTm></GrpHdr>
<${item}><Id>${input.statementId}</Id><CreDtTm>${date}T18:00:00+01:00</CreDtTm><Acct><Id><IBAN>${input.iban}</IBAN></Id><Ccy>${ccy}</Ccy></Acct>
${balances}
${entries}
</${item}></${root}></Document>
`;
}
