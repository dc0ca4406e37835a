/**
 * The statement-import flow: a bank file in, its lines stored once and posted to Odoo.
 * See README.md for the states of an import.
 */
export {
  importStatementFile,
  eventFormatOf,
  lineJson,
  type ImportFileInput,
  type ImportSummary,
  type ImportedStatement,
  type ImportSource,
  type StatementImportDeps,
  type PublishFn,
  type AuditFn,
} from './import.ts';
export { postPendingLines, type PostingResult, type StatementPostingDeps } from './post.ts';
export { startPostingLoop, type PostingLoop, type PostingLoopOptions } from './posting-loop.ts';
export {
  listImports,
  getImport,
  readPostingBacklog,
  type ImportDetail,
  type ImportListItem,
} from './queries.ts';
export { resolveAccount, type ImportAccount, type ImportEntity } from './accounts.ts';
export { assignEntryKeys } from './entry-key.ts';
