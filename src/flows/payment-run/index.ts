/**
 * The payment-run flow: open vendor bills → proposed order → policy approvals → pain.001 released
 * exactly once to the bank channel → pain.002 statuses → payments registered in Odoo. See README.md.
 */
export type {
  PaymentRunDeps,
  PaymentRunAccount,
  PaymentRunEntity,
  PaymentActor,
  PublishFn,
  AuditFn,
} from './deps.ts';
export { createFolderChannel, type PaymentFileChannel } from './outbox-folder.ts';
export {
  createSftpChannel,
  sshFingerprint,
  type PaymentDeliveryChannel,
  type SftpChannelOptions,
} from './channel-sftp.ts';
export {
  deliverPaymentOrder,
  deliverPendingPaymentOrders,
  startPaymentDeliveryLoop,
  type DeliveryResult,
  type DeliveryFailure,
  type DeliveryPassResult,
} from './deliver.ts';
export {
  paymentOrderTransitions,
  canTransition,
  cancellableStates,
  openOrderStates,
  transitionOrder,
} from './state-machine.ts';
export {
  proposePaymentOrder,
  type ProposePaymentOrderInput,
  type ProposalResult,
  type SkippedBill,
} from './propose.ts';
export {
  submitPaymentOrder,
  approvePaymentOrder,
  explainPaymentOrder,
  type ApproveResult,
  type PolicyExplanation,
} from './approvals.ts';
export {
  releasePaymentOrder,
  cancelPaymentOrder,
  markPaymentOrderSent,
  readPaymentFile,
  buildPaymentFile,
  renderPaymentFile,
  paymentFileName,
  type ReleaseResult,
} from './release.ts';
export {
  applyStatusReport,
  registerPendingPayments,
  type StatusReportResult,
  type AppliedTransactionStatus,
} from './status-report.ts';
export {
  listPaymentOrders,
  getPaymentOrder,
  type PaymentOrderSummary,
  type PaymentOrderDetail,
} from './queries.ts';
