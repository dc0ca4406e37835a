// XSD validation of ISO 20022 documents (libxml2 as WASM). Schemas are passed in as text, so the
// caller owns reading them from disk.
export * from './validate.ts';
export * from './pain001-files.ts';
