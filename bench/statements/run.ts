/**
 * Statement parser benchmark: generates a camt.053.001.08 of BENCH_MB megabytes (default 100,
 * about 900 entries per MB, each with TxDtls, remittance and counterparty) and an MT940 with
 * BENCH_MT940_LINES :61: lines (default 1,000 per MB: 100,000), then measures, each contender in
 * its own child process (so peak RSS is its own): Kontor's streaming parsers, fast-xml-parser's
 * DOM parse and `xmllint --stream --noout`. Prints one JSON line.
 *
 * The RSS bar at scale: `BENCH_MB=1024 npm run bench:statements` (about 1 GB). The DOM parse is
 * skipped above BENCH_DOM_MAX_MB (default 300): it needs some 16 bytes of heap per byte of XML.
 */
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MB = 1024 * 1024;

interface ChildResult {
  ms: number;
  /** User + system CPU time: robust when the machine is shared and wall time is noisy. */
  cpuMs: number;
  maxRssMb: number;
  entries?: number;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function ibanFor(n: number): string {
  // A fixed bank code and an account from n; check digits computed so that the IBAN validates.
  const bban = `37040044${pad(n % 10_000_000_000, 10)}`;
  const numeric = `${bban}131400`;
  let rest = 0;
  for (const ch of numeric) rest = (rest * 10 + Number(ch)) % 97;
  return `DE${pad(98 - rest, 2)}${bban}`;
}

function camtEntry(i: number): string {
  // Bank files are mostly unindented; about 1 KB per entry gives 100,000 entries per 100 MB.
  return camtEntryIndented(i).replace(/\n\s+/g, '\n');
}

function camtEntryIndented(i: number): string {
  const credit = i % 3 !== 0;
  const cents = 100 + ((i * 7919) % 500_000);
  const amount = `${Math.floor(cents / 100)}.${pad(cents % 100, 2)}`;
  const day = `2024-03-${pad(1 + (i % 28), 2)}`;
  const party = `<Pty><Nm>Counterparty ${i} GmbH &amp; Co. KG</Nm><PstlAdr><Ctry>DE</Ctry></PstlAdr></Pty>`;
  const account = `<Id><IBAN>${ibanFor(i)}</IBAN></Id>`;
  return `
      <Ntry>
        <NtryRef>${i}</NtryRef>
        <Amt Ccy="EUR">${amount}</Amt>
        <CdtDbtInd>${credit ? 'CRDT' : 'DBIT'}</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>${day}</Dt></BookgDt>
        <ValDt><Dt>${day}</Dt></ValDt>
        <AcctSvcrRef>BANKREF-${pad(i, 10)}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>${credit ? 'RCDT' : 'ICDT'}</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>BANKREF-${pad(i, 10)}</AcctSvcrRef><InstrId>INSTR-${i}</InstrId><EndToEndId>E2E-${pad(i, 12)}</EndToEndId></Refs>
            <Amt Ccy="EUR">${amount}</Amt>
            <CdtDbtInd>${credit ? 'CRDT' : 'DBIT'}</CdtDbtInd>
            <AmtDtls><InstdAmt><Amt Ccy="EUR">${amount}</Amt></InstdAmt><TxAmt><Amt Ccy="EUR">${amount}</Amt></TxAmt></AmtDtls>
            <RltdPties>
              <${credit ? 'Dbtr' : 'Cdtr'}>${party}</${credit ? 'Dbtr' : 'Cdtr'}>
              <${credit ? 'DbtrAcct' : 'CdtrAcct'}>${account}</${credit ? 'DbtrAcct' : 'CdtrAcct'}>
            </RltdPties>
            <RltdAgts><${credit ? 'DbtrAgt' : 'CdtrAgt'}><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></${credit ? 'DbtrAgt' : 'CdtrAgt'}></RltdAgts>
            <RmtInf>
              <Ustrd>Invoice INV-${pad(i, 8)} of 2024-02-${pad(1 + (i % 28), 2)}, customer ${i % 9973}, thank you for your payment</Ustrd>
              <Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>RF18${pad(i, 12)}</Ref></CdtrRefInf></Strd>
            </RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>`;
}

function signedCents(i: number): bigint {
  const cents = BigInt(100 + ((i * 7919) % 500_000));
  return i % 3 !== 0 ? cents : -cents;
}

function formatCents(c: bigint, sep: string): string {
  const abs = c < 0n ? -c : c;
  return `${abs / 100n}${sep}${pad(Number(abs % 100n), 2)}`;
}

function generateCamt(path: string, targetBytes: number): number {
  const fd = openSync(path, 'w');
  const per = Buffer.byteLength(camtEntry(50_000));
  const entries = Math.max(1, Math.round(targetBytes / per));
  let total = 0n;
  for (let i = 1; i <= entries; i++) total += signedCents(i);
  const opening = 1_000_000_00n;
  const closing = opening + total;
  const bal = (code: string, v: bigint) =>
    `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${formatCents(v, '.')}</Amt><CdtDbtInd>${v < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd><Dt><Dt>2024-03-31</Dt></Dt></Bal>`;
  writeSync(
    fd,
    `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>BENCH-1</MsgId><CreDtTm>2024-04-01T06:00:00+02:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>BENCH-STMT-1</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2024-04-01T06:00:00+02:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></Svcr></Acct>
      ${bal('OPBD', opening)}
      ${bal('CLBD', closing)}`,
  );
  let buffer = '';
  for (let i = 1; i <= entries; i++) {
    buffer += camtEntry(i);
    if (buffer.length > 4 * MB) {
      writeSync(fd, buffer);
      buffer = '';
    }
  }
  writeSync(fd, `${buffer}\n    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n`);
  closeSync(fd);
  return entries;
}

function generateMt940(path: string, lines: number): void {
  const fd = openSync(path, 'w');
  let total = 0n;
  for (let i = 1; i <= lines; i++) total += signedCents(i);
  const opening = 1_000_000_00n;
  const closing = opening + total;
  const balance = (tag: string, v: bigint) =>
    `:${tag}:${v < 0n ? 'D' : 'C'}240331EUR${formatCents(v, ',')}\r\n`;
  let buffer = `{1:F01COBADEFFAXXX0000000000}{2:O9400000240401COBADEFFAXXX00000000002404010000N}{4:\r\n:20:BENCH\r\n:25:DE89370400440532013000\r\n:28C:1/1\r\n${balance('60F', opening)}`;
  for (let i = 1; i <= lines; i++) {
    const c = signedCents(i);
    buffer += `:61:2403${pad(1 + (i % 28), 2)}03${pad(1 + (i % 28), 2)}${c < 0n ? 'D' : 'C'}${formatCents(c, ',')}NTRFE2E-${pad(i, 8)}//BANK${pad(i, 10)}\r\n`;
    buffer += `:86:166?00SEPA-GUTSCHRIFT?109310?20EREF+E2E-${pad(i, 12)}?21SVWZ+Invoice INV-${pad(i, 8)}?22 customer ${i % 9973}?30COBADEFFXXX?31${ibanFor(i)}?32Counterparty ${i} GmbH\r\n`;
    if (buffer.length > 4 * MB) {
      writeSync(fd, buffer);
      buffer = '';
    }
  }
  buffer += `${balance('62F', closing)}-}\r\n`;
  writeSync(fd, buffer);
  closeSync(fd);
}

async function runChild(contender: string, file: string): Promise<void> {
  // Modules load (and tsx compiles) before the clock starts: only parsing is measured. Each child
  // loads only its own contender so that peak RSS is that contender's.
  const kontor = contender.startsWith('kontor') ? await import('../../src/formats/index.ts') : undefined;
  const dom = contender === 'fast-xml-parser' ? await import('fast-xml-parser') : undefined;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let entries = 0;
  if (kontor !== undefined) {
    const { readCamtEvents, readMt940Events, checkBalance } = kontor;
    const read = contender === 'kontor-camt' ? readCamtEvents : readMt940Events;
    for await (const event of read(createReadStream(file, { highWaterMark: 64 * 1024 }), {
      maxBytes: 4 * 1024 * MB,
    })) {
      if (event.type === 'line') entries++;
      else if (event.type === 'statement-end' && checkBalance(event.summary).status !== 'balanced')
        throw new Error('generated statement does not balance');
    }
  } else if (dom !== undefined) {
    const doc = new dom.XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(
      readFileSync(file, 'utf8'),
    );
    const ntry = doc.Document.BkToCstmrStmt.Stmt.Ntry;
    entries = Array.isArray(ntry) ? ntry.length : 1;
  } else {
    throw new Error(`unknown contender ${contender}`);
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const result: ChildResult = {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    entries,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function measureNode(contender: string, file: string): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', contender, file], {
    encoding: 'utf8',
    maxBuffer: 16 * MB,
  });
  if (r.status !== 0) throw new Error(`${contender} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

function measureXmllint(file: string): ChildResult | null {
  if (!existsSync('/usr/bin/xmllint') && spawnSync('which', ['xmllint']).status !== 0) return null;
  const useTime = existsSync('/usr/bin/time');
  const started = performance.now();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-v', 'xmllint', '--stream', '--noout', file], { encoding: 'utf8' })
    : spawnSync('xmllint', ['--stream', '--noout', file], { encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.error !== undefined || r.status !== 0) return null;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const system = /System time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const cpuMs = user === null || system === null ? ms : (Number(user[1]) + Number(system[1])) * 1000;
  return { ms, cpuMs, maxRssMb: rss === null ? Number.NaN : Number(rss[1]) / 1024 };
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function main(): Promise<void> {
  const targetMb = Number(process.env.BENCH_MB ?? '100');
  const dir = mkdtempSync(join(tmpdir(), 'kontor-bench-statements-'));
  try {
    const camt = join(dir, 'camt053.001.08.xml');
    const entries = generateCamt(camt, targetMb * MB);
    const mt940Lines = Number(process.env.BENCH_MT940_LINES ?? String(Math.round(targetMb * 1000)));
    const mt940 = join(dir, 'statement.sta');
    generateMt940(mt940, mt940Lines);
    const camtMb = statSync(camt).size / MB;
    const mtMb = statSync(mt940).size / MB;

    const kontor = measureNode('kontor-camt', camt);
    const dom =
      camtMb <= Number(process.env.BENCH_DOM_MAX_MB ?? '300') ? measureNode('fast-xml-parser', camt) : null;
    const xmllint = measureXmllint(camt);
    const kontorMt = measureNode('kontor-mt940', mt940);
    const speed = (r: ChildResult | null, mb: number) => (r === null ? null : round(mb / (r.ms / 1000)));
    const cpuSpeed = (r: ChildResult | null, mb: number) =>
      r === null ? null : round(mb / (Math.max(r.cpuMs, 1) / 1000));

    const kontorSpeed = speed(kontor, camtMb)!;
    const domSpeed = speed(dom, camtMb);
    const xmllintSpeed = speed(xmllint, camtMb);
    const kontorCpu = cpuSpeed(kontor, camtMb)!;
    const domCpu = cpuSpeed(dom, camtMb);
    const xmllintCpu = cpuSpeed(xmllint, camtMb);
    const result = {
      load: loadavg().map((l) => round(l, 2)),
      bench: 'statements',
      camt053: {
        fileMb: round(camtMb),
        entries,
        kontor: {
          mbPerS: kontorSpeed,
          cpuMbPerS: kontorCpu,
          peakRssMb: round(kontor.maxRssMb),
          entries: kontor.entries,
        },
        fastXmlParserDom:
          dom === null ? null : { mbPerS: domSpeed, cpuMbPerS: domCpu, peakRssMb: round(dom.maxRssMb) },
        xmllintStream:
          xmllint === null
            ? null
            : { mbPerS: xmllintSpeed, cpuMbPerS: xmllintCpu, peakRssMb: round(xmllint.maxRssMb) },
        ratioVsXmllint: xmllintSpeed === null ? null : round(kontorSpeed / xmllintSpeed, 2),
        ratioVsDom: domSpeed === null ? null : round(kontorSpeed / domSpeed, 2),
        cpuRatioVsXmllint: xmllintCpu === null ? null : round(kontorCpu / xmllintCpu, 2),
        cpuRatioVsDom: domCpu === null ? null : round(kontorCpu / domCpu, 2),
      },
      mt940: {
        fileMb: round(mtMb),
        lines: mt940Lines,
        kontor: {
          mbPerS: speed(kontorMt, mtMb),
          cpuMbPerS: cpuSpeed(kontorMt, mtMb),
          linesPerS: Math.round(mt940Lines / (kontorMt.ms / 1000)),
          peakRssMb: round(kontorMt.maxRssMb),
          entries: kontorMt.entries,
        },
      },
      bar: {
        atLeast40PercentOfXmllint: xmllintSpeed === null ? null : kontorSpeed >= 0.4 * xmllintSpeed,
        atLeast5xDom: domSpeed === null ? null : kontorSpeed >= 5 * domSpeed,
        peakRssUnder150Mb: kontor.maxRssMb < 150 && kontorMt.maxRssMb < 150,
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    // BENCH_KEEP=1 leaves the generated files for profiling; the path goes to stderr.
    if (process.env.BENCH_KEEP === '1') process.stderr.write(`generated files kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt !== -1) await runChild(process.argv[childAt + 1]!, process.argv[childAt + 2]!);
else await main();
