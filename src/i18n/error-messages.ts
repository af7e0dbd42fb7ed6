import type { Culture } from '../providers/types.js';

/** Strings of the error page every browser-facing route falls back to. */
export interface ErrorPageMessages {
  title: string;
  unknownClient: string;
  invalidRedirectUri: string;
  notFound: string;
  serverError: string;
  unavailable: string;
  tooManyRequests: string;
  badRequest: string;
  whatNow: string;
  reference: string;
}

export const ERROR_PAGE_MESSAGES: Record<Culture, ErrorPageMessages> = {
  en: {
    title: 'Something went wrong',
    unknownClient: 'The app that sent you here is not registered with this service, so we cannot connect your bank for it.',
    invalidRedirectUri: 'The app that sent you here gave an address to return to that it has not registered. For your safety we will not send you there.',
    notFound: 'This page does not exist.',
    serverError: 'We could not finish your request because of an error on our side. Nothing was shared.',
    unavailable: 'The service is briefly unavailable. Please try again in a moment.',
    tooManyRequests: 'Too many attempts in a short time. Please wait a minute and try again.',
    badRequest: 'The request could not be understood.',
    whatNow: 'Go back to the app you came from and try again. If it keeps happening, contact the app’s support.',
    reference: 'Reference',
  },
  da: {
    title: 'Noget gik galt',
    unknownClient: 'Appen, der sendte dig hertil, er ikke registreret hos denne tjeneste, så vi kan ikke forbinde din bank til den.',
    invalidRedirectUri: 'Appen, der sendte dig hertil, har angivet en returadresse, den ikke har registreret. Af hensyn til din sikkerhed sender vi dig ikke dertil.',
    notFound: 'Siden findes ikke.',
    serverError: 'Vi kunne ikke gennemføre din anmodning på grund af en fejl hos os. Intet er blevet delt.',
    unavailable: 'Tjenesten er kortvarigt utilgængelig. Prøv igen om et øjeblik.',
    tooManyRequests: 'For mange forsøg på kort tid. Vent et minut, og prøv igen.',
    badRequest: 'Anmodningen kunne ikke forstås.',
    whatNow: 'Gå tilbage til appen, du kom fra, og prøv igen. Hvis det bliver ved, så kontakt appens support.',
    reference: 'Reference',
  },
  sv: {
    title: 'Något gick fel',
    unknownClient: 'Appen som skickade dig hit är inte registrerad hos den här tjänsten, så vi kan inte ansluta din bank till den.',
    invalidRedirectUri: 'Appen som skickade dig hit angav en returadress som den inte har registrerat. För din säkerhet skickar vi dig inte dit.',
    notFound: 'Sidan finns inte.',
    serverError: 'Vi kunde inte slutföra din begäran på grund av ett fel hos oss. Inget har delats.',
    unavailable: 'Tjänsten är tillfälligt otillgänglig. Försök igen om en liten stund.',
    tooManyRequests: 'För många försök på kort tid. Vänta en minut och försök igen.',
    badRequest: 'Begäran kunde inte tolkas.',
    whatNow: 'Gå tillbaka till appen du kom från och försök igen. Om det fortsätter, kontakta appens support.',
    reference: 'Referens',
  },
  nb: {
    title: 'Noe gikk galt',
    unknownClient: 'Appen som sendte deg hit, er ikke registrert hos denne tjenesten, så vi kan ikke koble banken din til den.',
    invalidRedirectUri: 'Appen som sendte deg hit, oppga en returadresse den ikke har registrert. For din sikkerhet sender vi deg ikke dit.',
    notFound: 'Siden finnes ikke.',
    serverError: 'Vi kunne ikke fullføre forespørselen din på grunn av en feil hos oss. Ingenting er delt.',
    unavailable: 'Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt.',
    tooManyRequests: 'For mange forsøk på kort tid. Vent et minutt, og prøv igjen.',
    badRequest: 'Forespørselen kunne ikke forstås.',
    whatNow: 'Gå tilbake til appen du kom fra, og prøv igjen. Hvis det fortsetter, kontakt appens kundestøtte.',
    reference: 'Referanse',
  },
  fi: {
    title: 'Jokin meni vikaan',
    unknownClient: 'Sovellus, joka ohjasi sinut tänne, ei ole rekisteröity tähän palveluun, joten emme voi yhdistää pankkiasi siihen.',
    invalidRedirectUri: 'Sovellus, joka ohjasi sinut tänne, antoi paluuosoitteen, jota se ei ole rekisteröinyt. Turvallisuutesi vuoksi emme ohjaa sinua sinne.',
    notFound: 'Sivua ei ole olemassa.',
    serverError: 'Emme voineet suorittaa pyyntöäsi loppuun meidän päässämme tapahtuneen virheen vuoksi. Mitään ei jaettu.',
    unavailable: 'Palvelu ei ole hetkeen käytettävissä. Yritä hetken kuluttua uudelleen.',
    tooManyRequests: 'Liian monta yritystä lyhyessä ajassa. Odota minuutti ja yritä uudelleen.',
    badRequest: 'Pyyntöä ei voitu ymmärtää.',
    whatNow: 'Palaa sovellukseen, josta tulit, ja yritä uudelleen. Jos ongelma toistuu, ota yhteyttä sovelluksen tukeen.',
    reference: 'Viite',
  },
  de: {
    title: 'Etwas ist schiefgelaufen',
    unknownClient: 'Die App, die Sie hierher geschickt hat, ist bei diesem Dienst nicht registriert. Daher können wir Ihre Bank nicht mit ihr verbinden.',
    invalidRedirectUri: 'Die App, die Sie hierher geschickt hat, hat eine Rücksprungadresse angegeben, die sie nicht registriert hat. Zu Ihrer Sicherheit leiten wir Sie nicht dorthin weiter.',
    notFound: 'Diese Seite gibt es nicht.',
    serverError: 'Wir konnten Ihre Anfrage wegen eines Fehlers auf unserer Seite nicht abschließen. Es wurde nichts geteilt.',
    unavailable: 'Der Dienst ist kurz nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.',
    tooManyRequests: 'Zu viele Versuche in kurzer Zeit. Bitte warten Sie eine Minute und versuchen Sie es erneut.',
    badRequest: 'Die Anfrage konnte nicht verstanden werden.',
    whatNow: 'Gehen Sie zurück zu der App, von der Sie kamen, und versuchen Sie es erneut. Wenn es wieder passiert, wenden Sie sich an den Support der App.',
    reference: 'Referenz',
  },
};
