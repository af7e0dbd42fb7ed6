import type { SandboxBank } from './banks.js';

/** Where Ferry serves a sandbox bank's logo (src/providers/routes.ts). */
export function sandboxLogoPath(bank: SandboxBank): string {
  return `/assets/banks/${bank.id.toLowerCase()}.svg`;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A sandbox bank's logo: its colour, a bank's pediment and its letters. Plain SVG with no script,
 * no style element and no external reference, so it is safe to serve from Ferry's own origin.
 */
export function sandboxBankLogo(bank: Pick<SandboxBank, 'name' | 'colour' | 'mark'>): string {
  const size = bank.mark.length <= 2 ? 22 : 17;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img" aria-label="${escapeXml(bank.name)}">`,
    `<title>${escapeXml(bank.name)}</title>`,
    `<rect width="64" height="64" rx="14" fill="${bank.colour}"/>`,
    '<path d="M14 20 32 10l18 10z" fill="#fff" fill-opacity=".9"/>',
    `<text x="32" y="${size === 22 ? 43 : 41}" text-anchor="middle" font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" font-size="${size}" font-weight="700" fill="#fff">${escapeXml(bank.mark)}</text>`,
    '<path d="M14 52h36" stroke="#fff" stroke-opacity=".9" stroke-width="3" stroke-linecap="round"/>',
    '</svg>',
  ].join('');
}
