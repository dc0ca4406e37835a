# Prepares a fresh Odoo 17/18 demo database for Kontor's live contract tests; run through `odoo-bin shell`.
# Idempotent: grants the integration groups, activates EUR, adds an isolation company with a chart,
# gives the demo bank journal an IBAN and prints a new persistent API key for admin.
admin = env.ref('base.user_admin')
admin.write({'groups_id': [(4, env.ref('account.group_account_user').id),
                           (4, env.ref('analytic.group_analytic_accounting').id)]})
eur = env.ref('base.EUR')
eur.active = True
main = env.ref('base.main_company')
other = env['res.company'].search([('name', '=', 'Kontor Isolation GmbH')])
if not other:
    other = env['res.company'].create({'name': 'Kontor Isolation GmbH', 'currency_id': eur.id})
    admin.write({'company_ids': [(4, other.id)]})
    env['account.chart.template'].with_context(allowed_company_ids=[other.id]).try_loading('generic_coa', other, install_demo=False)
    other.currency_id = eur
journal = env['account.journal'].search([('company_id', '=', main.id), ('type', '=', 'bank')], limit=1)
if not journal.bank_account_id:
    bank = env['res.partner.bank'].create({'acc_number': 'DE89370400440532013000', 'partner_id': main.partner_id.id, 'company_id': main.id})
    journal.bank_account_id = bank
print('COMPANIES', main.id, other.id)
apikeys = env['res.users.apikeys'].with_user(admin)
try:  # Odoo 18+: (scope, name, expiration_date); Odoo 16/17: (scope, name)
    key = apikeys._generate(None, 'kontor-live-tests', None)
except TypeError:
    key = apikeys._generate(None, 'kontor-live-tests')
print('APIKEY=' + key)
env.cr.commit()
