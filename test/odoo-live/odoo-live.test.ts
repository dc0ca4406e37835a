// Runs the Odoo contract suite against a real Odoo when ODOO_URL, ODOO_DB, ODOO_USER and
// ODOO_API_KEY (or ODOO_PASSWORD) are set; otherwise it skips.
import { test } from 'node:test';
import { registerOdooContract } from '../../src/connectors/contract/odoo.contract.ts';
import { OdooClient } from '../../src/connectors/odoo/index.ts';

const { ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY, ODOO_PASSWORD, ODOO_COMPANY_ID } = process.env;

if (ODOO_URL && ODOO_DB && ODOO_USER && (ODOO_API_KEY || ODOO_PASSWORD)) {
  const credentials = {
    url: ODOO_URL,
    db: ODOO_DB,
    login: ODOO_USER,
    ...(ODOO_API_KEY ? { apiKey: ODOO_API_KEY } : { password: ODOO_PASSWORD }),
  };
  registerOdooContract(async () => ({
    name: `live ${ODOO_URL}`,
    ...(ODOO_COMPANY_ID ? { companyId: Number(ODOO_COMPANY_ID) } : {}),
    connect: (override = {}) => OdooClient.connect({ ...credentials, ...override }),
  }));
} else {
  test(
    'Odoo live contract',
    { skip: 'set ODOO_URL, ODOO_DB, ODOO_USER and ODOO_API_KEY or ODOO_PASSWORD to run it' },
    () => {},
  );
}
