/** Every `kontor` sub-command, registered in this order; each file adds one command (or a group). */
import type { Command } from 'commander';

/** Adds a command (or a group of commands) to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
