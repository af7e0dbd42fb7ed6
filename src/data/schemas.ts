import { Type, type Static, type TSchema } from 'typebox';

/** The wire shapes of aiia-api.md §4, as TypeBox schemas: they serialize the answers and write the OpenAPI document. */
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * `T | null` in an answer, as one JSON Schema type list (OpenAPI 3.1). fast-json-stringify writes
 * it after a `typeof` test; for an `anyOf` it runs a schema validator on every value it writes
 * (a date-time regex for each `lastSynchronized`). Request schemas keep `anyOf` (Ajv's strict
 * mode wants union types spelled that way).
 */
const OrNull = <T extends TSchema & { type: string }>(schema: T) => Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });

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
    availableBalance: OrNull(Type.Number({ description: 'Legacy: available.value' })),
    bookedBalance: OrNull(Type.Number({ description: 'Legacy: booked.value' })),
    accountProvider: Type.Object({ id: Type.String(), name: Type.String() }),
    number: Type.Object({
      bban: OrNull(Type.String()),
      bbanParsed: OrNull(Type.Object({ bankCode: OrNull(Type.String()), accountNumber: OrNull(Type.String()) })),
      bbanType: OrNull(Type.String()),
      iban: OrNull(Type.String()),
      card: OrNull(Type.String()),
    }),
    features: Type.Object({ queryable: Type.Boolean(), paymentFrom: Type.Boolean(), paymentTo: Type.Boolean(), psdPaymentAccount: Type.Boolean() }),
    lastSynchronized: OrNull(Type.String({ format: 'date-time' })),
    syncStatus: Type.String({ description: 'Syncing, Finished, Failed' }),
    isOrphaned: Type.Boolean(),
    groupId: OrNull(Type.String()),
    groupName: OrNull(Type.String()),
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
    detail: OrNull(Type.Object({ valueDate: OrNull(Type.String()), counterpartyName: OrNull(Type.String()) })),
    categories: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    isDeleted: Type.Boolean(),
    creationDate: Type.String({ format: 'date-time' }),
  },
  { $id: 'Transaction' },
);

export const TransactionPageSchema = Type.Object({
  transactions: Type.Array(Type.Ref('Transaction')),
  pagingToken: OrNull(Type.String({ description: 'Pass back to get the next page; null on the last page.' })),
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
