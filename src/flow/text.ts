import type { ComponentChildren } from 'preact';

/**
 * Catalogue strings hold `{name}` placeholders rather than being functions, so a test can check
 * that every language fills in the same values, and so a placeholder can become markup (a link,
 * a `<time>`), not only text.
 */
const PLACEHOLDER = /\{(\w+)\}/g;

export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** Like {@link fill}, with markup allowed as values: returns the pieces for JSX. */
export function fillNodes(template: string, values: Record<string, ComponentChildren>): ComponentChildren[] {
  const pieces: ComponentChildren[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (!(name in values)) continue;
    pieces.push(template.slice(last, match.index));
    pieces.push(values[name]);
    last = match.index + match[0].length;
  }
  pieces.push(template.slice(last));
  return pieces;
}

export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).sort();
}
