// pain.001 (Customer Credit Transfer Initiation) writer, versions .001.09 and .001.03, with the
// SEPA character set and EPC rules for EUR credit transfers.
export * from './write.ts';
export * from './sepa-charset.ts';
export { escapeXml } from './xml-builder.ts';
