import type { BankAccount } from '../../providers/types.js';
import { formatMoney, maskedAccountNumber } from '../format.js';
import { fill } from '../text.js';
import { BankLogo, CancelForm, CsrfField, ErrorSummary, FlowPage, flowPath, type FlowView } from './layout.js';

export interface AccountChoice {
  account: BankAccount;
  checked: boolean;
  /** Listed in `bank_account_numbers`: the user must share it. */
  required: boolean;
}

export interface AccountsPageProps {
  view: FlowView;
  bank: { name: string; logoUrl: string | null };
  choices: AccountChoice[];
  error: boolean;
  bankPreset: boolean;
}

/** Step 4: the accounts the bank returned, to share or not; at least one must be chosen. */
export function AccountsPage({ view, bank, choices, error, bankPreset }: AccountsPageProps) {
  const { t } = view;
  const app = view.app.name;
  if (choices.length === 0) return <NoAccounts view={view} bank={bank} bankPreset={bankPreset} />;
  return (
    <FlowPage view={view} step="accounts" title={t.accountsTitle} hasError={error}>
      <p class="lead">{fill(t.accountsIntro, { bank: bank.name, app })}</p>
      {error ? <ErrorSummary view={view} errors={[{ fieldId: 'account-0', message: t.accountsNoneError }]} /> : null}
      <form method="post" action={flowPath(view.flowId, 'accounts')} class="step-form" data-accounts="">
        <CsrfField view={view} />
        <fieldset class={error ? 'accounts field-invalid' : 'accounts'} aria-describedby={error ? 'accounts-error' : undefined}>
          <legend>
            <BankLogo src={bank.logoUrl} />
            <span>{fill(t.accountsLegend, { bank: bank.name })}</span>
          </legend>
          {error ? (
            <p class="field-error" id="accounts-error">
              {t.accountsNoneError}
            </p>
          ) : null}
          {choices.length > 1 ? (
            <p class="select-all">
              <button type="submit" name="intent" value="select-all" class="button-link" data-select-all="">
                {t.accountsSelectAll}
              </button>
            </p>
          ) : null}
          <ul class="account-list">
            {choices.map((choice, index) => (
              <AccountRow view={view} choice={choice} index={index} key={choice.account.id} />
            ))}
          </ul>
        </fieldset>
        <button type="submit" name="intent" value="share" class="button button-primary">
          {t.accountsShare}
        </button>
      </form>
      <CancelForm view={view} />
    </FlowPage>
  );
}

function AccountRow({ view, choice, index }: { view: FlowView; choice: AccountChoice; index: number }) {
  const { t } = view;
  const { account } = choice;
  const id = `account-${index}`;
  const number = maskedAccountNumber(account);
  const balance = account.available ?? account.booked;
  return (
    <li class={choice.checked ? 'account is-checked' : 'account'}>
      <input type="checkbox" id={id} name="account" value={account.id} checked={choice.checked || choice.required} disabled={choice.required} />
      {choice.required ? <input type="hidden" name="account" value={account.id} /> : null}
      <label for={id} class="account-label">
        <span class="account-name">{account.name}</span>
        {number !== null ? (
          <span class="account-number">
            <span class="visually-hidden">{t.accountsNumberEnding} </span>
            <span aria-hidden="true">•••• </span>
            {number.replace(/^•+\s*/, '')}
          </span>
        ) : null}
        <span class="account-balance">
          <span class="visually-hidden">{t.accountsBalance}: </span>
          {balance !== null ? formatMoney(view.culture, balance) : t.accountsNoBalance}
        </span>
        {choice.required ? <span class="badge">{fill(t.accountsRequired, { app: view.app.name })}</span> : null}
      </label>
    </li>
  );
}

function NoAccounts({ view, bank, bankPreset }: { view: FlowView; bank: AccountsPageProps['bank']; bankPreset: boolean }) {
  const { t } = view;
  return (
    <FlowPage view={view} step="accounts" title={t.accountsTitle}>
      <div class="notice" role="status">
        <p>{fill(t.accountsEmpty, { bank: bank.name })}</p>
      </div>
      <div class="action-stack">
        {!bankPreset ? (
          <form method="post" action={flowPath(view.flowId, 'bank/change')}>
            <CsrfField view={view} />
            <button type="submit" class="button button-primary">
              {t.loginChooseAnother}
            </button>
          </form>
        ) : null}
        <CancelForm view={view} label={fill(t.backToApp, { app: view.app.name })} />
      </div>
    </FlowPage>
  );
}
