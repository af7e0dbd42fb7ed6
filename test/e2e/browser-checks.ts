import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Screenshots go here (git-ignored); CI keeps them as artifacts. */
export const ARTIFACTS = path.resolve('test-artifacts', 'flow');

export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;

/** WCAG 2.2 A and AA, plus axe's best practices. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Runs axe-core in the page (through the DevTools protocol, so the page's CSP stays strict) and fails on any violation. */
export async function expectNoAxeViolations(page: Page, label: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (tags) => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  }, AXE_TAGS);
  assert.deepEqual(violations, [], `axe found violations on ${label}:\n${JSON.stringify(violations, null, 2)}`);
}

/** A screenshot of the whole page at the phone and the desktop size; the viewport is left at the phone size. */
export async function screenshots(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${size.width}x${size.height}.png`), fullPage: true });
  }
}

/** At 320 CSS pixels nothing scrolls sideways (WCAG 2.2 SC 1.4.10, reflow). */
export async function expectNoHorizontalScroll(page: Page, label: string): Promise<void> {
  const previous = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 640 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${label} scrolls sideways by ${overflow}px at 320px`);
  if (previous !== null) await page.setViewportSize(previous);
}

/** Everything a page should pass: axe, reflow at 320 px, and (when named) its screenshots. */
export async function checkStep(page: Page, label: string, screenshotName?: string): Promise<void> {
  await expectNoAxeViolations(page, label);
  await expectNoHorizontalScroll(page, label);
  if (screenshotName !== undefined) await screenshots(page, screenshotName);
}

/**
 * Collects what the browser says about CSP violations and script errors, so a test can assert the
 * page needed no inline script or style and nothing threw (into `problems`, as they happen).
 */
export function watchConsole(page: Page, problems: string[] = []): string[] {
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  return problems;
}

/**
 * The browser contexts of one test at a time, at phone size, every page in them watched (the first,
 * another tab, a window the page opens): `newPage` opens a context and its first page, `context` is
 * the latest, `finish` (afterEach) closes them all and fails the test on any CSP violation or
 * script error seen on any of their pages.
 */
export class PhonePages {
  private contexts: BrowserContext[] = [];
  private problems: string[] = [];

  constructor(private readonly browser: () => Browser) {}

  async newPage(options: { javaScriptEnabled?: boolean; locale?: string } = {}): Promise<Page> {
    const context = await this.browser().newContext({ viewport: PHONE, javaScriptEnabled: options.javaScriptEnabled ?? true, locale: options.locale ?? 'en-GB' });
    context.on('page', (page) => watchConsole(page, this.problems));
    this.contexts.push(context);
    return context.newPage();
  }

  get context(): BrowserContext {
    const context = this.contexts.at(-1);
    if (context === undefined) throw new Error('no page opened yet in this test');
    return context;
  }

  async finish(): Promise<void> {
    for (const context of this.contexts.splice(0)) await context.close();
    const problems = this.problems.splice(0);
    assert.deepEqual(problems, [], 'no CSP violation and no script error');
  }
}

/** What has the keyboard focus now: its tag, role-ish description, and whether the focus is visible. */
export async function focused(page: Page): Promise<{ tag: string; text: string; id: string; name: string; outline: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (el === null) return { tag: '', text: '', id: '', name: '', outline: 'none' };
    const style = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.textContent ?? '').trim().replace(/\s+/g, ' '),
      id: el.id,
      name: el.getAttribute('name') ?? '',
      outline: `${style.outlineStyle} ${style.outlineWidth}`,
    };
  });
}

/** Presses Tab until the focused element matches (the keyboard-only walk); fails if it never does. */
export async function tabTo(page: Page, matches: (el: Awaited<ReturnType<typeof focused>>) => boolean, label: string, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const el = await focused(page);
    if (matches(el)) {
      assert.notEqual(el.outline.split(' ')[0], 'none', `the focus on ${label} is visible`);
      return;
    }
  }
  assert.fail(`Tab never reached ${label}`);
}
