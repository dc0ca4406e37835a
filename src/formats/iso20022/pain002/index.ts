// pain.002 (Customer Payment Status Report) parser for .001.03 and .001.10 and later, with the ISO
// status and status-reason code tables in words.
export * from './parse.ts';
export * from './codes.ts';
