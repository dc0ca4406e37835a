/** What several flows share: the outbox and audit functions they get injected, and the wake loop. */
export { startWakeLoop, type WakeLoop, type WakeLoopOptions } from './wake-loop.ts';
export type { AuditFn, PublishFn } from './effects.ts';
