/** Bank channels: where statement files come from and payment files go (a watched folder; SFTP later). */
export { startFolderInbox, type FolderInbox, type FolderInboxOptions } from './folder-inbox.ts';
