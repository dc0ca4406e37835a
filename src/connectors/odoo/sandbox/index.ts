// A sandbox Odoo: an in-memory emulation of the models and methods Kontor uses, served over HTTP
// with the same JSON-RPC and JSON-2 endpoints, for demos and fast tests.
export { type SandboxOdoo, type SandboxOdooOptions, startSandboxOdoo } from './server.ts';
export { createRfReference, type SandboxSeed } from './seed.ts';
