import type { FlowContext, ProviderCatalogue } from '../flow-context.js';
import { isAt, redirectToCurrentStep, sendHtml } from '../flow-context.js';
import { moveStep } from '../flow-store.js';
import type { FormBody } from '../form-body.js';
import { countryName, CULTURE_COUNTRY, searchKey } from '../format.js';
import { beginLogin, withoutLogin } from '../login-steps.js';
import { BankPage, type CountryGroup } from '../pages/bank-page.js';
import { flowPath } from '../pages/layout.js';
import type { FlowRouteKit, IdParams } from './route-kit.js';

/** Step 2: choose the bank (search without JavaScript through the query), and "choose another bank" from the later steps. */
export function bankRoutes(kit: FlowRouteKit): void {
  const { app, db, clock, providers } = kit;

  app.get<{ Params: IdParams; Querystring: { q?: string; country?: string } }>('/flow/:id/bank', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'bank')) return redirectToCurrentStep(reply, ctx);
    const query = typeof request.query.q === 'string' ? request.query.q.slice(0, 100) : '';
    // The country of the user's language first; an explicit choice (even "all") wins.
    const country = typeof request.query.country === 'string' ? request.query.country.slice(0, 2).toUpperCase() : (CULTURE_COUNTRY[ctx.culture] ?? '');
    const { groups, visibleCount } = bankGroups(providers, ctx, query, country);
    const selected = groups.some((g) => g.countryCode === country) ? country : '';
    return sendHtml(reply, 200, <BankPage view={ctx.view} groups={groups} query={query} country={selected} visibleCount={visibleCount} />);
  });

  app.post<{ Params: IdParams }>('/flow/:id/bank', { schema: kit.hide, config: kit.bankCall }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'bank')) return redirectToCurrentStep(reply, ctx);
    const providerId = (request.body as FormBody).providerId;
    const provider = typeof providerId === 'string' ? providers.get(providerId) : undefined;
    // A bank that is down cannot be chosen, whatever the form says.
    if (provider === undefined || provider.describe().status === 'Down') return reply.redirect(flowPath(ctx.flow.id, 'bank'), 303);
    return reply.redirect(await beginLogin(kit.deps(request), ctx, provider, 'bank'), 303);
  });

  app.post<{ Params: IdParams }>('/flow/:id/bank/change', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    // The app chose the bank (`providerId`): there is no other.
    if (ctx.params.providerId !== null || (ctx.position !== 'login' && ctx.position !== 'accounts')) return redirectToCurrentStep(reply, ctx);
    const { providerId: _providerId, ...rest } = withoutLogin(ctx.data);
    await moveStep(db, ctx.flow.id, ['login', 'accounts'], 'bank', rest, clock.now());
    return reply.redirect(flowPath(ctx.flow.id, 'bank'), 303);
  });
}

/** Every bank, grouped by country (the language's country first), with the server-side search applied as `hidden`. */
export function bankGroups(providers: ProviderCatalogue, ctx: FlowContext, query: string, country: string): { groups: CountryGroup[]; visibleCount: number } {
  const wanted = searchKey(query);
  const byCountry = new Map<string, CountryGroup>();
  const banks = providers.list().map((p) => p.describe());
  const filterCountry = banks.some((b) => b.countryCode === country) ? country : '';
  for (const bank of banks) {
    let group = byCountry.get(bank.countryCode);
    if (group === undefined) {
      group = { countryCode: bank.countryCode, countryName: countryName(ctx.culture, bank.countryCode), banks: [], hidden: filterCountry !== '' && bank.countryCode !== filterCountry };
      byCountry.set(bank.countryCode, group);
    }
    const key = searchKey(bank.name);
    group.banks.push({ id: bank.id, name: bank.name, logoUrl: bank.logoUrl, status: bank.status, searchKey: key, hidden: wanted !== '' && !key.includes(wanted) });
  }
  const home = CULTURE_COUNTRY[ctx.culture];
  const groups = [...byCountry.values()]
    // Banks that are down go last: still listed, so the user learns why theirs cannot be chosen.
    .map((g) => ({ ...g, banks: g.banks.sort((a, b) => Number(a.status === 'Down') - Number(b.status === 'Down') || a.name.localeCompare(b.name, ctx.culture)) }))
    .sort((a, b) => Number(b.countryCode === home) - Number(a.countryCode === home) || a.countryName.localeCompare(b.countryName, ctx.culture));
  let visibleCount = 0;
  for (const group of groups) {
    const visible = group.hidden ? 0 : group.banks.filter((b) => !b.hidden).length;
    if (visible === 0) group.hidden = true;
    visibleCount += visible;
  }
  return { groups, visibleCount };
}
