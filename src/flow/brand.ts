/**
 * The app's brand colour on the hosted flow. It fills buttons (white text) and colours links (on
 * white), so it must reach 4.5:1 against white (WCAG 2.2 SC 1.4.3); a lighter colour is darkened,
 * keeping its hue, until it does. CSP forbids inline styles, so the colour arrives as a tiny
 * stylesheet of its own at `/flow/theme/<hex>.css`.
 */
export const DEFAULT_BRAND = '#0b5cad';
const MIN_CONTRAST = 4.5;

export function brandStylesheetPath(brandColor: string | null): string | null {
  if (brandColor === null || !/^#[0-9a-fA-F]{6}$/.test(brandColor)) return null;
  return `/flow/theme/${brandColor.slice(1).toLowerCase()}.css`;
}

export function brandStylesheet(hex: string): string | null {
  if (!/^[0-9a-f]{6}$/.test(hex)) return null;
  const brand = accessibleOnWhite(`#${hex}`);
  const [r, g, b] = rgb(brand);
  // A faint tint of the brand for selected rows and the progress track.
  const tint = `rgba(${r}, ${g}, ${b}, 0.08)`;
  return `:root { --brand: ${brand}; --brand-tint: ${tint}; }\n`;
}

export function accessibleOnWhite(hex: string): string {
  let [r, g, b] = rgb(hex);
  for (let i = 0; i < 100 && contrastWithWhite([r, g, b]) < MIN_CONTRAST; i++) {
    r = Math.floor(r * 0.95);
    g = Math.floor(g * 0.95);
    b = Math.floor(b * 0.95);
  }
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

export function contrastWithWhite(color: [number, number, number]): number {
  return 1.05 / (relativeLuminance(color) + 0.05);
}

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** WCAG 2.2 relative luminance. */
function relativeLuminance([r, g, b]: [number, number, number]): number {
  const channel = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}
