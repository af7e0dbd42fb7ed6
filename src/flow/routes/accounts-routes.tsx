import type { BankAccount } from '../../providers/types.js';
import { isAt, redirectToCurrentStep, sendHtml, type FlowContext } from '../flow-context.js';
import { moveStep, type FlowData } from '../flow-store.js';
import type { FormBody } from '../form-body.js';
import { maskedAccountNumber, normaliseAccountNumber } from '../format.js';
import { withoutLogin } from '../login-steps.js';
import { AccountsPage, type AccountChoice } from '../pages/accounts-page.js';
import { flowPath } from '../pages/layout.js';
import { createFlowConsent, flowErrorRedirect, reconnectFlowConsent } from '../session.js';
import type { FlowRouteKit, IdParams } from './route-kit.js';

/**
 * Step 4: the accounts the bank returned. `select_all_accounts` preselects them all;
 * `bank_account_numbers` marks the ones the user must share (and the server shares them whatever
 * the form says). At least one account; sharing creates the consent, once.
 */
export function accountsRoutes(kit: FlowRouteKit): void {
  const { app, db, clock, providers, options } = kit;

  app.get<{ Params: IdParams; Querystring: { all?: string; error?: string } }>('/flow/:id/accounts', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'accounts')) return redirectToCurrentStep(reply, ctx);
    const bank = providers.get(ctx.data.providerId ?? '')?.describe();
    const selectAll = ctx.params.selectAllAccounts || request.query.all === '1';
    const accounts = ctx.data.accounts ?? [];
    const choices: AccountChoice[] = accounts.map((account) => ({
      account,
      checked: selectAll || accounts.length === 1,
      required: isRequiredAccount(ctx, account),
    }));
    return sendHtml(
      reply,
      200,
      <AccountsPage
        view={ctx.view}
        bank={{ name: bank?.name ?? ctx.data.providerId ?? '', logoUrl: bank?.logoUrl ?? null }}
        choices={choices}
        error={request.query.error === 'none'}
        bankPreset={ctx.params.providerId !== null}
      />,
    );
  });

  app.post<{ Params: IdParams }>('/flow/:id/accounts', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'accounts') || ctx.data.connection === undefined || ctx.data.providerId === undefined) return redirectToCurrentStep(reply, ctx);
    const body = request.body as FormBody;
    const accountsPage = flowPath(ctx.flow.id, 'accounts');
    // "Select all" without JavaScript: the same page, every box ticked.
    if (body.intent === 'select-all') return reply.redirect(`${accountsPage}?all=1`, 303);
    const posted = new Set(typeof body.account === 'string' ? [body.account] : Array.isArray(body.account) ? body.account : []);
    const selected = (ctx.data.accounts ?? []).filter((a) => posted.has(a.id) || isRequiredAccount(ctx, a));
    if (selected.length === 0) return reply.redirect(`${accountsPage}?error=none`, 303);
    const reconnecting = typeof ctx.params.reconnectConsentId === 'string';
    const consentId = reconnecting
      ? // A supervised update (POST /v1/update): the app's consent gets the new bank connection.
        await reconnectFlowConsent(options.flow, ctx.flow.id, { providerId: ctx.data.providerId, connection: ctx.data.connection, accounts: selected })
      : await createFlowConsent(options.flow, ctx.flow.id, {
          providerId: ctx.data.providerId,
          connection: ctx.data.connection,
          accounts: selected,
          // The regular flow's consent belongs to the Ferry user who signed in (My connections).
          ...(ctx.data.userId !== undefined ? { userId: ctx.data.userId } : {}),
        });
    // The consent to renew was revoked or erased meanwhile: nothing to renew; the app hears why.
    if (consentId === null) {
      await moveStep(db, ctx.flow.id, 'accounts', 'cancelled', { endReason: 'failed' }, clock.now());
      return reply.redirect(flowErrorRedirect(ctx.flow, options.publicUrl, 'access_denied', 'The consent to renew was revoked or has ended; connect the user again.'), 303);
    }
    const consent = await db.selectFrom('consents').select('delete_at').where('id', '=', consentId).executeTakeFirst();
    // The consent now holds the connection and the accounts; the flow keeps only what the done page shows.
    const data: FlowData = {
      ...withoutLogin(ctx.data),
      deleteAt: consent?.delete_at ?? null,
      accountCount: selected.length,
      sharedAccounts: selected.map((a) => ({ name: a.name, number: maskedAccountNumber(a) })),
    };
    await moveStep(db, ctx.flow.id, 'accounts', 'done', data, clock.now());
    return reply.redirect(flowPath(ctx.flow.id, 'done'), 303);
  });
}

function isRequiredAccount(ctx: FlowContext, account: Pick<BankAccount, 'bban' | 'iban'>): boolean {
  const wanted = ctx.params.bankAccountNumbers.map(normaliseAccountNumber);
  if (wanted.length === 0) return false;
  return [account.bban, account.iban].some((n) => n !== null && wanted.includes(normaliseAccountNumber(n)));
}
