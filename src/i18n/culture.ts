import type { Culture } from '../providers/types.js';

export const CULTURES: readonly Culture[] = ['en', 'da', 'sv', 'nb', 'fi', 'de'];

/** Aiia's culture codes, including the legacy `se` (Swedish) and `no` (Norwegian). */
const ALIASES: Record<string, Culture> = { se: 'sv', no: 'nb', nn: 'nb' };

export function normaliseCulture(value: string | null | undefined): Culture | null {
  if (!value) return null;
  const primary = value.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if ((CULTURES as readonly string[]).includes(primary)) return primary as Culture;
  return ALIASES[primary] ?? null;
}

/** `culture` first, then the browser's `Accept-Language` (by q-value), then English. */
export function resolveCulture(culture: string | null | undefined, acceptLanguage: string | undefined): Culture {
  const explicit = normaliseCulture(culture);
  if (explicit !== null) return explicit;
  if (acceptLanguage) {
    const ranked = acceptLanguage
      .split(',')
      .slice(0, 20)
      .map((part, index) => {
        const [tag, ...params] = part.trim().split(';');
        const q = params.map((p) => /^\s*q=([01](\.\d{1,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
        return { tag: tag ?? '', q: q === undefined ? 1 : Number(q), index };
      })
      .filter((entry) => entry.q > 0)
      .sort((a, b) => b.q - a.q || a.index - b.index);
    for (const entry of ranked) {
      const culture = normaliseCulture(entry.tag);
      if (culture !== null) return culture;
    }
  }
  return 'en';
}

/** BCP 47 tag for `<html lang>` and `Intl`. */
export function languageTag(culture: Culture): string {
  return culture === 'nb' ? 'nb-NO' : culture;
}
