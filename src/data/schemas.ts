import { Type } from 'typebox';

/** The wire shapes of aiia-api.md §4, as TypeBox schemas: they serialize the answers and write the OpenAPI document. */
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const MoneySchema = Type.Object({ currency: Type.String(), value: Type.Number() }, { $id: 'Money', description: 'An amount; value is exact to the currency’s minor unit.' });
const NullableMoney = Type.Union([Type.Ref('Money'), Type.Null()]);

export const AccountSchema = Type.Object(
  {
    id: Type.String({ description: 'Opaque account id, stable for the consent.' }),
    name: Type.String(),
    owner: Type.String(),
    type: Type.String({ description: 'Consumption, Savings, Credit, Card, Loan, Pension or Other' }),
    currency: Type.String(),
    available: NullableMoney,
    booked: NullableMoney,
    availableBalance: Type.Union([Type.Number(), Type.Null()], { description: 'Legacy: available.value' }),
    bookedBalance: Type.Union([Type.Number(), Type.Null()], { description: 'Legacy: booked.value' }),
    accountProvider: Type.Object({ id: Type.String(), name: Type.String() }),
    number: Type.Object({
      bban: Nullable(Type.String()),
      bbanParsed: Type.Union([Type.Object({ bankCode: Nullable(Type.String()), accountNumber: Nullable(Type.String()) }), Type.Null()]),
      bbanType: Nullable(Type.String()),
      iban: Nullable(Type.String()),
      card: Nullable(Type.String()),
    }),
    features: Type.Object({ queryable: Type.Boolean(), paymentFrom: Type.Boolean(), paymentTo: Type.Boolean(), psdPaymentAccount: Type.Boolean() }),
    lastSynchronized: Nullable(Type.String({ format: 'date-time' })),
    syncStatus: Type.String({ description: 'Syncing, Finished, Failed' }),
    isOrphaned: Type.Boolean(),
    groupId: Nullable(Type.String()),
    groupName: Nullable(Type.String()),
  },
  { $id: 'Account' },
);

export const TransactionSchema = Type.Object(
  {
    id: Type.String(),
    accountId: Type.String(),
    date: Type.String({ description: 'YYYY-MM-DD' }),
    text: Type.String(),
    originalText: Type.String(),
    transactionAmount: Type.Ref('Money'),
    balance: NullableMoney,
    amount: Type.Number({ description: 'Legacy: transactionAmount.value' }),
    currency: Type.String({ description: 'Legacy: transactionAmount.currency' }),
    state: Type.String({ description: 'Booked, or Reserved for pending' }),
    type: Type.String(),
    detail: Type.Union([Type.Object({ valueDate: Nullable(Type.String()), counterpartyName: Nullable(Type.String()) }), Type.Null()]),
    categories: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    isDeleted: Type.Boolean(),
    creationDate: Type.String({ format: 'date-time' }),
  },
  { $id: 'Transaction' },
);

export const TransactionPageSchema = Type.Object({
  transactions: Type.Array(Type.Ref('Transaction')),
  pagingToken: Nullable(Type.String({ description: 'Pass back to get the next page; null on the last page.' })),
});

export const ApiErrorSchema = Type.Object({ error: Type.String(), error_description: Type.String() });

export const RangeSchema = Type.Object({ min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) }, { additionalProperties: false });

export const TransactionQuerySchema = Type.Object(
  {
    interval: Type.Optional(Type.String({ description: 'ISO-8601 interval start/end, e.g. 2026-01-01T00:00:00Z/2026-02-01T00:00:00Z' })),
    pagingToken: Type.Optional(Nullable(Type.String())),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    amountValueBetween: Type.Optional(Type.Union([RangeSchema, Type.Null()])),
    balanceValueBetween: Type.Optional(Type.Union([RangeSchema, Type.Null()])),
  },
  { additionalProperties: true },
);
