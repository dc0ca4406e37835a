// Runs the Odoo contract suite against the sandbox, over JSON-RPC and over JSON-2.
import { registerOdooContract } from '../contract/odoo.contract.ts';
import { OdooClient, startSandboxOdoo } from './index.ts';

for (const protocol of ['jsonrpc', 'json2'] as const) {
  registerOdooContract(async () => {
    const sandbox = await startSandboxOdoo();
    return {
      name: `sandbox (${protocol})`,
      companyId: sandbox.seed.companyId,
      connect: (override = {}) =>
        OdooClient.connect(
          { url: sandbox.url, db: sandbox.db, login: sandbox.login, apiKey: sandbox.apiKey, ...override },
          { protocol },
        ),
      close: () => sandbox.close(),
    };
  });
}
