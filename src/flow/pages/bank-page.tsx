import type { ProviderStatus } from '../../providers/types.js';
import { pluralMessage } from '../messages.js';
import { fill } from '../text.js';
import { BankLogo, CancelForm, CsrfField, FlowPage, flowPath, type FlowView } from './layout.js';

export interface BankChoice {
  id: string;
  name: string;
  logoUrl: string | null;
  status: ProviderStatus;
  /** Lower case without accents, for the page script's search as you type. */
  searchKey: string;
  /** Hidden by the server's own filter (the no-JavaScript search). */
  hidden: boolean;
}

export interface CountryGroup {
  countryCode: string;
  countryName: string;
  banks: BankChoice[];
  hidden: boolean;
}

export interface BankPageProps {
  view: FlowView;
  groups: CountryGroup[];
  query: string;
  country: string;
  visibleCount: number;
}

/**
 * Step 2: choose the bank. Every bank is in the page, grouped by country; the server filters by
 * the search form (no JavaScript), and assets/flow.js filters the same list as the user types.
 * A bank that is down is shown as such and its button is disabled (the server refuses it too).
 */
export function BankPage({ view, groups, query, country, visibleCount }: BankPageProps) {
  const { t } = view;
  return (
    <FlowPage view={view} step="bank" title={t.bankTitle}>
      <form method="get" action={flowPath(view.flowId, 'bank')} class="bank-search" role="search" data-bank-search="">
        <div class="field">
          <label for="bank-query">{t.bankSearchLabel}</label>
          <input id="bank-query" name="q" type="search" value={query} autocomplete="off" spellcheck={false} data-bank-query="" />
        </div>
        <div class="field">
          <label for="bank-country">{t.bankCountryLabel}</label>
          <select id="bank-country" name="country" data-bank-country="">
            <option value="" selected={country === ''}>
              {t.bankAllCountries}
            </option>
            {groups.map((g) => (
              <option value={g.countryCode} selected={g.countryCode === country} key={g.countryCode}>
                {g.countryName}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="button button-secondary" data-js-hide="">
          {t.bankSearchButton}
        </button>
      </form>

      <p class="result-count" data-bank-count="" data-one={t.bankResults_one} data-other={t.bankResults_other}>
        {fill(pluralMessage(view.culture, 'bankResults', visibleCount), { count: visibleCount })}
      </p>
      {/* Search as you type announces the count here once the user pauses, not at every key. */}
      <p class="visually-hidden" role="status" data-bank-announce="" />

      <form method="post" action={flowPath(view.flowId, 'bank')} class="bank-choices">
        <CsrfField view={view} />
        {groups.map((group) => (
          <section class="bank-group" aria-labelledby={`country-${group.countryCode}`} data-country={group.countryCode} hidden={group.hidden} key={group.countryCode}>
            <h2 id={`country-${group.countryCode}`}>{group.countryName}</h2>
            <ul class="bank-list">
              {group.banks.map((bank) => (
                <li data-bank={bank.searchKey} hidden={bank.hidden} key={bank.id}>
                  <button
                    type="submit"
                    name="providerId"
                    value={bank.id}
                    class="bank-option"
                    disabled={bank.status === 'Down'}
                    aria-describedby={bank.status !== 'Up' ? `status-${bank.id}` : undefined}
                  >
                    <BankLogo src={bank.logoUrl} />
                    <span class="bank-text">
                      <span class="bank-name">{bank.name}</span>
                      {bank.status !== 'Up' ? (
                        <span class={`bank-status bank-status-${bank.status.toLowerCase()}`} id={`status-${bank.id}`}>
                          {bank.status === 'Down' ? t.bankUnavailable : t.bankDegraded}
                        </span>
                      ) : null}
                    </span>
                    {bank.status !== 'Down' ? (
                      <span class="chevron" aria-hidden="true">
                        ›
                      </span>
                    ) : null}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </form>
      <div class="empty-state" data-bank-empty="" hidden={visibleCount > 0}>
        <p>{t.bankNoMatch}</p>
        <p>
          <a href={`${flowPath(view.flowId, 'bank')}?country=`} data-bank-reset="">
            {t.bankShowAll}
          </a>
        </p>
      </div>
      <CancelForm view={view} />
    </FlowPage>
  );
}
