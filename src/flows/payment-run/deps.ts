/** What the payment-run flow gets injected by main.ts: store, ERP port, bank channels, policy, clock. */
import type { Clock, IdGenerator, VendorPayables } from '../../domain/index.ts';
import type { Pain001Version } from '../../formats/iso20022/pain001/index.ts';
import type { ApprovalPolicy } from '../../policy/approval/index.ts';
import type { Db } from '../../store/index.ts';
import type { AuditFn, PublishFn } from '../shared/index.ts';
import type { PaymentDeliveryChannel } from './channel-sftp.ts';
import type { PaymentFileChannel } from './outbox-folder.ts';

export type { AuditFn, PublishFn } from '../shared/index.ts';

/** A bank account orders are paid from (from kontor.yaml). */
export interface PaymentRunAccount {
  id: string;
  entity: string;
  iban?: string | undefined;
  bic?: string | undefined;
  currency: string;
  odooJournal: string | number;
  painVersion: Pain001Version;
}

/** A legal entity (from kontor.yaml); its Odoo company holds the bills. */
export interface PaymentRunEntity {
  id: string;
  name: string;
  odooCompanyId?: number | undefined;
}

/** Everything the flow's steps need; concrete adapters are chosen by main.ts. */
export interface PaymentRunDeps {
  db: Db;
  accounts: readonly PaymentRunAccount[];
  entities: readonly PaymentRunEntity[];
  payables: VendorPayables;
  policy: ApprovalPolicy;
  /** The bank channel (outbox folder) of a bank account: the durable write of a release. */
  channelFor(accountId: string): PaymentFileChannel;
  /** The delivery channel (SFTP) of a bank account, if it has one: moves released → sent. */
  deliveryFor?(accountId: string): PaymentDeliveryChannel | undefined;
  /** XSD text per pain.001 version; a release without the schema of its version is refused. */
  xsd: Partial<Record<Pain001Version, string>>;
  /** Where the XSDs were looked for, e.g. `/srv/xsd (KONTOR_XSD_DIR)`; named in the error when one is missing. */
  xsdSource?: string | undefined;
  publish: PublishFn;
  audit: AuditFn;
  clock: Clock;
  ids: IdGenerator;
}

/** Who acts on an order: an identity id with its kind and roles (approvals need all three). */
export interface PaymentActor {
  id: string;
  kind: 'human' | 'service';
  roles: readonly string[];
}
