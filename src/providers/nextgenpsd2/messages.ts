import { providerMessage, type ProviderMessageKey } from '../messages.js';
import type { Culture } from '../types.js';

/**
 * What the NextGenPSD2 connector says to the user beyond the texts every provider shares
 * (src/providers/messages.ts), in every language the flow speaks. `{bank}`, `{list}` and `{method}`
 * are filled in by {@link xs2aMessage}.
 */
const en = {
  psuId: 'Online banking ID',
  psuIdHint: 'The ID you use to log in to {bank}’s online banking.',
  scaMethodTitle: 'How do you want to confirm?',
  scaMethod: 'Confirmation method',
  scaMethodHint: 'Enter the number of your choice: {list}',
  errScaMethod: 'Choose one of the methods listed.',
  otpMethodHint: '{method}: enter the code you received.',
  failBusy: '{bank} is busy right now. Please try again in a few minutes.',
  failAnswer: '{bank} answered in a way Ferry cannot read. Please try again later.',
  failNotGranted: '{bank} did not grant access to your accounts.',
  failScaFailed: 'The confirmation at {bank} failed. Please start again.',
};

export type Xs2aMessageKey = keyof typeof en;
type Catalogue = Record<Xs2aMessageKey, string>;

const da: Catalogue = {
  psuId: 'Netbank-bruger-id',
  psuIdHint: 'Det id, du bruger til at logge ind i netbanken hos {bank}.',
  scaMethodTitle: 'Hvordan vil du bekræfte?',
  scaMethod: 'Bekræftelsesmetode',
  scaMethodHint: 'Skriv nummeret på dit valg: {list}',
  errScaMethod: 'Vælg en af de viste metoder.',
  otpMethodHint: '{method}: indtast den kode, du har modtaget.',
  failBusy: '{bank} har travlt lige nu. Prøv igen om et par minutter.',
  failAnswer: '{bank} svarede på en måde, Ferry ikke kan læse. Prøv igen senere.',
  failNotGranted: '{bank} gav ikke adgang til dine konti.',
  failScaFailed: 'Bekræftelsen hos {bank} mislykkedes. Start forfra.',
};

const sv: Catalogue = {
  psuId: 'Användar-id för internetbanken',
  psuIdHint: 'Id:t du loggar in i internetbanken hos {bank} med.',
  scaMethodTitle: 'Hur vill du bekräfta?',
  scaMethod: 'Bekräftelsemetod',
  scaMethodHint: 'Skriv numret på ditt val: {list}',
  errScaMethod: 'Välj en av metoderna i listan.',
  otpMethodHint: '{method}: ange koden du har fått.',
  failBusy: '{bank} är upptagen just nu. Försök igen om några minuter.',
  failAnswer: '{bank} svarade på ett sätt som Ferry inte kan läsa. Försök igen senare.',
  failNotGranted: '{bank} gav inte åtkomst till dina konton.',
  failScaFailed: 'Bekräftelsen hos {bank} misslyckades. Börja om.',
};

const nb: Catalogue = {
  psuId: 'Bruker-ID for nettbanken',
  psuIdHint: 'ID-en du bruker for å logge inn i nettbanken hos {bank}.',
  scaMethodTitle: 'Hvordan vil du bekrefte?',
  scaMethod: 'Bekreftelsesmetode',
  scaMethodHint: 'Skriv nummeret på valget ditt: {list}',
  errScaMethod: 'Velg en av metodene i listen.',
  otpMethodHint: '{method}: skriv inn koden du har fått.',
  failBusy: '{bank} er opptatt akkurat nå. Prøv igjen om noen minutter.',
  failAnswer: '{bank} svarte på en måte Ferry ikke kan lese. Prøv igjen senere.',
  failNotGranted: '{bank} ga ikke tilgang til kontoene dine.',
  failScaFailed: 'Bekreftelsen hos {bank} mislyktes. Start på nytt.',
};

const fi: Catalogue = {
  psuId: 'Verkkopankin käyttäjätunnus',
  psuIdHint: 'Tunnus, jolla kirjaudut verkkopankkiin ({bank}).',
  scaMethodTitle: 'Miten haluat vahvistaa?',
  scaMethod: 'Vahvistustapa',
  scaMethodHint: 'Kirjoita valintasi numero: {list}',
  errScaMethod: 'Valitse jokin luetelluista tavoista.',
  otpMethodHint: '{method}: anna saamasi koodi.',
  failBusy: '{bank} on juuri nyt ruuhkautunut. Yritä uudelleen muutaman minuutin kuluttua.',
  failAnswer: '{bank} vastasi tavalla, jota Ferry ei osaa lukea. Yritä myöhemmin uudelleen.',
  failNotGranted: '{bank} ei antanut pääsyä tileihisi.',
  failScaFailed: 'Vahvistus epäonnistui ({bank}). Aloita alusta.',
};

const de: Catalogue = {
  psuId: 'Online-Banking-Kennung',
  psuIdHint: 'Ihre Kennung für das Online-Banking von {bank}.',
  scaMethodTitle: 'Wie möchten Sie bestätigen?',
  scaMethod: 'Bestätigungsverfahren',
  scaMethodHint: 'Geben Sie die Nummer Ihrer Wahl ein: {list}',
  errScaMethod: 'Wählen Sie eines der aufgeführten Verfahren.',
  otpMethodHint: '{method}: Geben Sie den erhaltenen Code ein.',
  failBusy: '{bank} ist gerade ausgelastet. Bitte versuchen Sie es in ein paar Minuten erneut.',
  failAnswer: '{bank} hat in einer Form geantwortet, die Ferry nicht lesen kann. Bitte versuchen Sie es später erneut.',
  failNotGranted: '{bank} hat den Zugriff auf Ihre Konten nicht erteilt.',
  failScaFailed: 'Die Bestätigung bei {bank} ist fehlgeschlagen. Bitte beginnen Sie von vorn.',
};

const CATALOGUES: Readonly<Record<Culture, Catalogue>> = { en, da, sv, nb, fi, de };

/** A connector message, or one every provider shares, in the user's language. */
export function xs2aMessage(culture: Culture, key: Xs2aMessageKey | ProviderMessageKey, values: Record<string, string> = {}): string {
  const own = (CATALOGUES[culture] ?? en) as Record<string, string>;
  const template = own[key];
  if (template === undefined) return providerMessage(culture, key as ProviderMessageKey, values);
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
