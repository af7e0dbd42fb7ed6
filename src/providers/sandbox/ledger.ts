import type { AccountPlan } from './accounts.js';
import { epochDay, monthIndexOfDay } from './calendar.js';
import { MAX_CARD_LAG_DAYS, generateMonth, monthTarget, preauthorisation, type Entry } from './entries.js';
import { HISTORY_DAYS } from './scenarios.js';

/**
 * What the bank shows of an account at a moment: its booked entries with running balances, and the
 * card purchases still Reserved. Balances need no history before the window: the month before the
 * window defines its opening balance, so they reconcile to the cent across any window.
 */

/** Opening balance of `monthIndex`: the target the month before settled to, plus what followed. */
function openingBalance(plan: AccountPlan, monthIndex: number): number {
  return monthTarget(plan, monthIndex - 1) + generateMonth(plan, monthIndex - 1, 0).sum;
}

export interface Ledger {
  /** Booked entries visible at `now`, oldest first, with running balances. */
  booked: Entry[];
  /** Reserved entries visible at `now` (card purchases not yet booked), oldest first. */
  reserved: Entry[];
  /** Balance after the newest booked entry. */
  bookedBalance: number;
}

/**
 * Booked and Reserved entries whose date is in [fromDay, toDay], as the bank shows them at `now`.
 * Generates from the month before `fromDay` (for the opening balance) to a few days past today
 * (card purchases made up to today that book later show as Reserved).
 */
export function buildLedger(plan: AccountPlan, fromDay: number, toDay: number, now: number): Ledger {
  const today = epochDay(now);
  const from = Math.max(fromDay, today - HISTORY_DAYS);
  const to = Math.min(toDay, today);
  const booked: Entry[] = [];
  const reserved: Entry[] = [];
  if (from > to) return { booked, reserved, bookedBalance: 0 };
  const firstMonth = monthIndexOfDay(from);
  const lastMonth = monthIndexOfDay(to >= today - MAX_CARD_LAG_DAYS ? today + MAX_CARD_LAG_DAYS : to);
  let opening = openingBalance(plan, firstMonth);
  let bookedBalance = opening;
  for (let m = firstMonth; m <= lastMonth; m++) {
    const month = generateMonth(plan, m, opening);
    let running = opening;
    for (const entry of month.entries) {
      running += entry.amount;
      entry.balance = running;
      if (entry.bookedAt <= now) {
        bookedBalance = running;
        if (entry.day >= from && entry.day <= to) booked.push(entry);
      } else if (entry.pendingFrom >= 0 && entry.pendingFrom <= now && entry.purchaseDay >= from && entry.purchaseDay <= to) {
        reserved.push(entry);
      }
    }
    opening = monthTarget(plan, m) + month.sum;
  }
  if (plan.special === 'removed') {
    const preauth = preauthorisation(plan, now);
    if (preauth !== null && preauth.purchaseDay >= from && preauth.purchaseDay <= to) reserved.push(preauth);
  }
  reserved.sort((a, b) => a.purchaseDay - b.purchaseDay || a.pendingFrom - b.pendingFrom || a.key - b.key);
  return { booked, reserved, bookedBalance };
}
