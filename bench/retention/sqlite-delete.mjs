/**
 * Where SQLite's time goes when the sweep erases transactions (issue 6, bench/RESULTS.md
 * "Experiments"): a synthetic transactions table (N rows over C consents, 3 accounts each,
 * sandbox-like row sizes) in a temp file, then DELETE … WHERE consent_id IN (…) in batches of
 * BATCH consents, each after its per-consent count, as src/consents/erase.ts does. One thread, no
 * other table. Variants (V): base (Ferry's schema: random UUID ids, `id text primary key`,
 * keyset, provider-id and consent indexes), base+ord (the same, ids in insertion order), noid (no
 * index on id), noprov (no provider-id index), wr (WITHOUT ROWID on the keyset). Options as
 * environment variables: N, C, BATCH, SECURE (on|off|fast), CACHE (MB), MMAP (MB), CKPT (pages).
 *
 *   V=base node bench/retention/sqlite-delete.mjs
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
const V = process.env.V ?? 'base';
const N = Number(process.env.N ?? 1_000_000), C = Number(process.env.C ?? 10_000);
const BATCH = Number(process.env.BATCH ?? 50);
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-sqlite-delete-')), 'exp.sqlite');
const db = new SQLite(file);
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
const cols = `account_id text not null, consent_id text not null, provider_transaction_id text not null, date text not null, ordinal integer not null, value_date text, text text not null, original_text text not null, amount_minor bigint not null, currency text not null, balance_minor bigint, state text not null, type text not null, counterparty_name text, category text, is_deleted integer not null default 0, created_at bigint not null, updated_at bigint not null`;
const schemas = {
  base: [`create table transactions (id text primary key, ${cols})`,
    `create index transactions_keyset on transactions (account_id, date, ordinal, id)`,
    `create unique index transactions_provider_id on transactions (account_id, provider_transaction_id)`,
    `create index transactions_consent_id on transactions (consent_id)`],
  // without rowid, clustered on the keyset
  wr: [`create table transactions (id text not null, ${cols}, primary key (account_id, date, ordinal, id)) without rowid`,
    `create unique index transactions_id on transactions (id)`,
    `create unique index transactions_provider_id on transactions (account_id, provider_transaction_id)`,
    `create index transactions_consent_id on transactions (consent_id)`],
  noid: [`create table transactions (id text not null, ${cols})`,
    `create index transactions_keyset on transactions (account_id, date, ordinal, id)`,
    `create unique index transactions_provider_id on transactions (account_id, provider_transaction_id)`,
    `create index transactions_consent_id on transactions (consent_id)`],
  // rowid table, id index, keyset, consent index; provider unique dropped
  noprov: [`create table transactions (id text primary key, ${cols})`,
    `create index transactions_keyset on transactions (account_id, date, ordinal, id)`,
    `create index transactions_consent_id on transactions (consent_id)`],
};
for (const s of schemas[V.split('+')[0]]) db.exec(s);
const ins = db.prepare(`insert into transactions (id, account_id, consent_id, provider_transaction_id, date, ordinal, value_date, text, original_text, amount_minor, currency, balance_minor, state, type, counterparty_name, category, is_deleted, created_at, updated_at) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
const consents = [];
let t0 = performance.now();
const per = N / C;
db.transaction(() => {
  for (let c = 0; c < C; c++) {
    const cid = randomUUID(); consents.push(cid);
    const accounts = [randomUUID(), randomUUID(), randomUUID()];
    for (let i = 0; i < per; i++) {
      const a = accounts[i % 3];
      const day = String(1 + (i % 28)).padStart(2, '0');
      ins.run(V.includes('+ord') ? `0${String(c).padStart(5,'0')}${String(i).padStart(5,'0')}-xxxx-7xxx-xxxx-xxxxxxxxxxxx` : randomUUID(), a, cid, `bank-tx-${c}-${i}-abcdef`, `2026-0${1 + (i % 9)}-${day}`, i, `2026-01-${day}`, 'Dankort-nota Netto 1234 ' + i, 'Dankort-nota NETTO 1234 KOEBENHAVN ' + i, -12345 - i, 'DKK', 9999900 - i, 'Booked', 'Card', 'Netto Kobenhavn', 'Groceries', 0, 1764300000000, 1764300000000);
    }
  }
})();
db.pragma('wal_checkpoint(truncate)');
console.log(`${V}: seeded ${N} in ${((performance.now() - t0) / 1000).toFixed(1)} s, file ${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MB`);
db.pragma(`secure_delete = ${process.env.SECURE ?? 'on'}`);
if (process.env.CACHE) db.pragma(`cache_size = -${Number(process.env.CACHE) * 1024}`);
if (process.env.MMAP) db.pragma(`mmap_size = ${Number(process.env.MMAP) * 2 ** 20}`);
if (process.env.CKPT) db.pragma(`wal_autocheckpoint = ${process.env.CKPT}`);
const count = (ids) => db.prepare(`select consent_id, count(*) n from transactions where consent_id in (${ids.map(() => '?').join(',')}) group by consent_id`).all(ids);
const del = (ids) => db.prepare(`delete from transactions where consent_id in (${ids.map(() => '?').join(',')})`).run(ids);
const cpu0 = process.cpuUsage(); t0 = performance.now();
let done = 0, maxBatch = 0;
for (let i = 0; i < consents.length; i += BATCH) {
  const ids = consents.slice(i, i + BATCH);
  const b0 = performance.now();
  db.transaction(() => { count(ids); done += del(ids).changes; })();
  maxBatch = Math.max(maxBatch, performance.now() - b0);
}
const s = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(cpu0);
console.log(`${V} batch ${BATCH} secure ${process.env.SECURE ?? 'on'} cache ${process.env.CACHE ?? "def"} mmap ${process.env.MMAP ?? 0} ckpt ${process.env.CKPT ?? 1000}: ${done} in ${s.toFixed(2)} s = ${Math.round(done / s)}/s; cpu user ${(cpu.user / 1e6).toFixed(2)} sys ${(cpu.system / 1e6).toFixed(2)}; max batch ${maxBatch.toFixed(0)} ms; wal ${(fs.statSync(file + '-wal').size / 2 ** 20).toFixed(0)} MB`);
db.close();
fs.rmSync(path.dirname(file), { recursive: true, force: true });
