/** Builds pain.002.001.10 status reports for payment-run tests: one TxInfAndSts per EndToEndId. */
export interface MadeStatus {
  endToEndId: string;
  /** ACCP, ACSC, RJCT, PDNG… */
  status: string;
  reason?: string;
}

/** A pain.002.001.10 answering the pain.001 with `originalMessageId`. */
export function makePain002(
  originalMessageId: string,
  statuses: readonly MadeStatus[],
  messageId = `STS-${originalMessageId}`,
): string {
  const txs = statuses
    .map(
      (s, i) => `      <TxInfAndSts>
        <StsId>${messageId}-${i + 1}</StsId>
        <OrgnlEndToEndId>${s.endToEndId}</OrgnlEndToEndId>
        <TxSts>${s.status}</TxSts>${
          s.reason === undefined ? '' : `\n        <StsRsnInf><Rsn><Cd>${s.reason}</Cd></Rsn></StsRsnInf>`
        }
      </TxInfAndSts>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>${messageId}</MsgId><CreDtTm>2026-11-21T10:00:00Z</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>${originalMessageId}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>${originalMessageId}</OrgnlPmtInfId>
${txs}
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
`;
}
