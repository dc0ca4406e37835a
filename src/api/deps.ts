/** What route modules get from the composition root (main.ts): application services, never adapters. */
import type { Db } from '../store/index.ts';
import type { Logger } from '../observability/index.ts';
import type { KontorConfig } from '../config/index.ts';
import type { SecurityServices } from './plugins/auth.ts';

/** One readiness check: resolves to ok/not ok with a short reason, shown at /readyz. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

/** Services available to every route module. Capabilities add their services here. */
export interface ApiServices {
  db: Db;
  config: KontorConfig;
  logger: Logger;
  version: string;
  /** Checks behind /readyz, beyond the store's own (Odoo circuit, bus connection…). */
  readiness: ReadinessCheck[];
  /** Identities, tokens and edge limits; absent = every non-public route answers 401. */
  security?: SecurityServices | undefined;
}
