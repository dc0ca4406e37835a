/** Every `kontor` sub-command, registered in this order; each file adds one command (or a group). */
import type { Command } from 'commander';
import { registerConfigCheck } from './config-check.ts';
import { registerMigrate } from './migrate.ts';
import { registerStart } from './start.ts';
import { registerVersion } from './version.ts';
import { registerOdooCheck } from './odoo-check.ts';
import { registerStatementInspect } from './statement-inspect.ts';
import { registerImport } from './import.ts';
import { registerIdentity } from './identity.ts';
import { registerAudit } from './audit.ts';
import { registerPayments } from './payments.ts';
import { registerReconcile } from './reconcile.ts';
import { registerEvents } from './events.ts';

/** Adds a command (or a group of commands) to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerStart,
  registerMigrate,
  registerConfigCheck,
  registerVersion,
  registerOdooCheck,
  registerStatementInspect,
  registerImport,
  registerIdentity,
  registerAudit,
  registerReconcile,
  registerEvents,
  registerPayments,
];
