import type { SandboxCountry } from './account-numbers.js';

/**
 * What makes a sandbox bank's data look like it comes from its country: names, towns, account
 * names, merchants, prices, paydays, and the raw texts the country's banks print on statements.
 * A catalogue, big on purpose. Employers and landlords are invented; merchants are the ordinary
 * chains a statement in that country shows.
 */

export type AccountKind = 'current' | 'savings' | 'credit' | 'business';

export type MerchantCategory = 'groceries' | 'transport' | 'restaurants' | 'shopping' | 'health' | 'travel' | 'online' | 'cafe';

export interface Subscription {
  name: string;
  /** Monthly price in the country's minor units. */
  minor: number;
  /** Paid by card (streaming) or collected by direct debit (gym, phone, insurance). */
  channel: 'Card' | 'DirectDebit';
  category: 'Subscriptions' | 'Utilities' | 'Insurance';
}

export interface CountryTexts {
  /** A card purchase as the bank prints it; `dd`/`mm` are the purchase date. */
  cardRaw(name: string, city: string, dd: string, mm: string): string;
  salary: string;
  salaryRaw(employer: string): string;
  rent: string;
  rentRaw(landlord: string): string;
  directDebitRaw(name: string): string;
  cash: string;
  cashRaw(city: string): string;
  fee: string;
  interest: string;
  toSavings: string;
  fromSavings: string;
  fromCurrent: string;
  toCurrent: string;
  cardBillPayment: string;
  income: string;
  preauthorisation: string;
}

export interface CountryProfile {
  code: SandboxCountry;
  /** Local currency units per Danish krone, to scale the generator's price ranges. */
  priceFactor: number;
  /** Net monthly salary range, major units. */
  salary: readonly [number, number];
  /** Rent and balance targets are rounded to this many major units. */
  roundTo: number;
  /** Day of month salaries are paid (moved to the weekday before), or the last weekday. */
  payday: number | 'last';
  firstNames: readonly string[];
  lastNames: readonly string[];
  cities: readonly string[];
  employers: readonly string[];
  landlords: readonly string[];
  accountNames: Readonly<Record<AccountKind, readonly string[]>>;
  merchants: Readonly<Record<MerchantCategory, readonly string[]>>;
  subscriptions: readonly Subscription[];
  /** The electricity company (a direct debit whose amount follows the season). */
  electricity: string;
  /** The country's person-to-person payment app. */
  p2p: string;
  texts: CountryTexts;
}

const upper = (text: string) => text.toLocaleUpperCase('en');

const DK: CountryProfile = {
  code: 'DK',
  priceFactor: 1,
  salary: [24_000, 42_000],
  roundTo: 100,
  payday: 'last',
  firstNames: ['Anne', 'Mette', 'Hanne', 'Camilla', 'Sofie', 'Ida', 'Emma', 'Freja', 'Louise', 'Maria', 'Lars', 'Jens', 'Peter', 'Mads', 'Rasmus', 'Søren', 'Anders', 'Mikkel', 'Frederik', 'Niels', 'Kasper', 'Jonas'],
  lastNames: ['Nielsen', 'Jensen', 'Hansen', 'Pedersen', 'Andersen', 'Christensen', 'Larsen', 'Sørensen', 'Rasmussen', 'Jørgensen', 'Petersen', 'Madsen', 'Kristensen', 'Olsen', 'Thomsen', 'Poulsen', 'Knudsen', 'Mortensen', 'Møller', 'Holm'],
  cities: ['København', 'Aarhus', 'Odense', 'Aalborg', 'Frederiksberg', 'Esbjerg', 'Roskilde', 'Vejle'],
  employers: ['Nordhavn Logistik A/S', 'Kastrup Software ApS', 'Lindholm Rådgivning A/S', 'Skovly Børnehus', 'Fjordbyen Kommune', 'Vestkyst Energi A/S'],
  landlords: ['Boligselskabet Lærkebo', 'Ejendomsselskabet Nørrebro', 'Andelsboligforeningen Solgården', 'Boligforeningen Havbakken'],
  accountNames: {
    current: ['Lønkonto', 'Budgetkonto', 'Fælleskonto', 'Husholdningskonto', 'Forbrugskonto'],
    savings: ['Opsparingskonto', 'Feriekonto', 'Bufferkonto', 'Børneopsparing', 'Bilkonto', 'Højrentekonto'],
    credit: ['Mastercard Kreditkort', 'Visa Gold', 'Mastercard Platinum'],
    business: ['Erhvervskonto'],
  },
  merchants: {
    groceries: ['Netto', 'Føtex', 'Bilka', 'REMA 1000', 'Lidl', 'Coop 365', 'SuperBrugsen', 'Meny'],
    transport: ['DSB', 'Rejsekort', 'Movia', 'Metroselskabet', 'Circle K', 'Q8', 'OK Benzin'],
    restaurants: ['Joe & The Juice', 'Sunset Boulevard', "McDonald's", 'Letz Sushi', 'Wok Shop', 'Gasoline Grill'],
    shopping: ['Matas', 'H&M', 'Magasin', 'Elgiganten', 'Power', 'IKEA', 'Normal', 'Søstrene Grene'],
    health: ['Apoteket', 'Synoptik', 'Louis Nielsen'],
    travel: ['SAS', 'Norwegian', 'Booking.com', 'Scandic Hotels', 'DSB Rejser'],
    online: ['Zalando', 'Wolt', 'Just Eat', 'Apple.com/bill', 'Google Play', 'Saxo.com'],
    cafe: ['7-Eleven', 'Espresso House', 'Lagkagehuset', 'Baresso'],
  },
  subscriptions: [
    { name: 'Netflix', minor: 12_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'Spotify', minor: 11_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'Viaplay', minor: 14_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'Fitness World', minor: 29_900, channel: 'DirectDebit', category: 'Subscriptions' },
    { name: 'Telenor', minor: 19_900, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'YouSee', minor: 32_900, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'Tryg Forsikring', minor: 41_250, channel: 'DirectDebit', category: 'Insurance' },
  ],
  electricity: 'Andel Energi',
  p2p: 'MobilePay',
  texts: {
    cardRaw: (name, city, dd, mm) => `VISA/DANKORT ${dd}.${mm} ${upper(name)} ${upper(city)}`,
    salary: 'Løn',
    salaryRaw: (employer) => `LØN ${upper(employer)}`,
    rent: 'Husleje',
    rentRaw: (landlord) => `HUSLEJE ${upper(landlord)}`,
    directDebitRaw: (name) => `BS BETALING ${upper(name)}`,
    cash: 'Kontanthævning',
    cashRaw: (city) => `KONTANTHÆVNING ${upper(city)}`,
    fee: 'Kontogebyr',
    interest: 'Rente',
    toSavings: 'Overførsel til opsparing',
    fromSavings: 'Overførsel fra opsparing',
    fromCurrent: 'Overførsel fra lønkonto',
    toCurrent: 'Overførsel til lønkonto',
    cardBillPayment: 'Betaling af kortudtog',
    income: 'Indbetaling',
    preauthorisation: 'Reservation',
  },
};

const SE: CountryProfile = {
  code: 'SE',
  priceFactor: 1.5,
  salary: [26_000, 46_000],
  roundTo: 100,
  payday: 25,
  firstNames: ['Anna', 'Eva', 'Maria', 'Karin', 'Sara', 'Emma', 'Elin', 'Johanna', 'Linnea', 'Maja', 'Lars', 'Anders', 'Johan', 'Erik', 'Per', 'Karl', 'Mikael', 'Oskar', 'Viktor', 'Lucas', 'Nils'],
  lastNames: ['Andersson', 'Johansson', 'Karlsson', 'Nilsson', 'Eriksson', 'Larsson', 'Olsson', 'Persson', 'Svensson', 'Gustafsson', 'Pettersson', 'Jonsson', 'Lindberg', 'Lindström', 'Bergström', 'Lundqvist'],
  cities: ['Stockholm', 'Göteborg', 'Malmö', 'Uppsala', 'Västerås', 'Örebro', 'Linköping', 'Umeå'],
  employers: ['Norrsken Logistik AB', 'Kvarnby Teknik AB', 'Sjöstad Konsult AB', 'Ekbacka Förskola', 'Älvdalens Kommun', 'Granhult Energi AB'],
  landlords: ['Fastighets AB Linden', 'Hyresbostäder i Norrby AB', 'Brf Solrosen', 'Bostads AB Ekhagen'],
  accountNames: {
    current: ['Lönekonto', 'Privatkonto', 'Hushållskonto', 'Gemensamt konto'],
    savings: ['Sparkonto', 'e-sparkonto', 'Buffertkonto', 'Semesterkonto', 'Barnsparkonto'],
    credit: ['Kreditkort Mastercard', 'Visa Kreditkort'],
    business: ['Företagskonto'],
  },
  merchants: {
    groceries: ['ICA Maxi', 'ICA Supermarket', 'Coop', 'Willys', 'Hemköp', 'Lidl', 'City Gross'],
    transport: ['SL', 'SJ', 'Västtrafik', 'Skånetrafiken', 'Circle K', 'Preem', 'OKQ8'],
    restaurants: ['Max Hamburgare', "Wayne's Coffee", 'Vapiano', 'Sushi Yama', 'O’Learys', 'Pizza Hut'],
    shopping: ['Åhléns', 'H&M', 'Clas Ohlson', 'Elgiganten', 'IKEA', 'Systembolaget', 'Kjell & Company'],
    health: ['Apotek Hjärtat', 'Apoteket', 'Kronans Apotek'],
    travel: ['SAS', 'Norwegian', 'Booking.com', 'Scandic Hotels', 'SJ Resor'],
    online: ['Zalando', 'CDON', 'Apple.com/bill', 'Foodora', 'Wolt', 'Adlibris'],
    cafe: ['Pressbyrån', 'Espresso House', 'Waynes', '7-Eleven'],
  },
  subscriptions: [
    { name: 'Netflix', minor: 13_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'Spotify', minor: 13_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'Viaplay', minor: 19_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'SATS', minor: 54_900, channel: 'DirectDebit', category: 'Subscriptions' },
    { name: 'Telia', minor: 39_900, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'Tele2', minor: 29_900, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'Folksam', minor: 28_900, channel: 'DirectDebit', category: 'Insurance' },
  ],
  electricity: 'Vattenfall',
  p2p: 'Swish',
  texts: {
    cardRaw: (name, city, dd, mm) => `KORTKÖP ${mm}${dd} ${upper(name)} ${upper(city)}`,
    salary: 'Lön',
    salaryRaw: (employer) => `LÖN ${upper(employer)}`,
    rent: 'Hyra',
    rentRaw: (landlord) => `HYRA ${upper(landlord)}`,
    directDebitRaw: (name) => `AUTOGIRO ${upper(name)}`,
    cash: 'Uttag',
    cashRaw: (city) => `UTTAG BANKOMAT ${upper(city)}`,
    fee: 'Avgift',
    interest: 'Ränta',
    toSavings: 'Överföring till sparkonto',
    fromSavings: 'Överföring från sparkonto',
    fromCurrent: 'Överföring från lönekonto',
    toCurrent: 'Överföring till lönekonto',
    cardBillPayment: 'Inbetalning kreditkort',
    income: 'Insättning',
    preauthorisation: 'Reservation',
  },
};

const NO: CountryProfile = {
  code: 'NO',
  priceFactor: 1.55,
  salary: [30_000, 52_000],
  roundTo: 100,
  payday: 20,
  firstNames: ['Kari', 'Ingrid', 'Anne', 'Marit', 'Nora', 'Emma', 'Sofie', 'Thea', 'Ingeborg', 'Ole', 'Lars', 'Jan', 'Per', 'Bjørn', 'Knut', 'Jonas', 'Magnus', 'Henrik', 'Sander', 'Even'],
  lastNames: ['Hansen', 'Johansen', 'Olsen', 'Larsen', 'Andersen', 'Pedersen', 'Nilsen', 'Kristiansen', 'Jensen', 'Karlsen', 'Johnsen', 'Pettersen', 'Eriksen', 'Berg', 'Haugen', 'Hagen', 'Bakken'],
  cities: ['Oslo', 'Bergen', 'Trondheim', 'Stavanger', 'Drammen', 'Fredrikstad', 'Kristiansand', 'Tromsø'],
  employers: ['Havbris Teknikk AS', 'Nordvik Shipping AS', 'Fjellheim Rådgivning AS', 'Solsiden Barnehage', 'Elvdal Kommune', 'Kystlys Energi AS'],
  landlords: ['Boligbyggelaget Fjordly', 'Eiendom AS Nordlys', 'Borettslaget Furulund', 'Utleiebolig Sentrum AS'],
  accountNames: {
    current: ['Brukskonto', 'Lønnskonto', 'Felleskonto', 'Regningskonto'],
    savings: ['Sparekonto', 'BSU', 'Høyrentekonto', 'Feriekonto', 'Bufferkonto'],
    credit: ['Kredittkort Mastercard', 'Visa Kredittkort'],
    business: ['Bedriftskonto'],
  },
  merchants: {
    groceries: ['REMA 1000', 'KIWI', 'Meny', 'Coop Extra', 'Coop Obs', 'Joker', 'Bunnpris', 'SPAR'],
    transport: ['Ruter', 'Vy', 'Skyss', 'AtB', 'Circle K', 'Esso', 'Uno-X'],
    restaurants: ['Deli de Luca', 'Peppes Pizza', 'Egon', 'Burger King', 'Sushi Bar Oslo'],
    shopping: ['Vinmonopolet', 'XXL', 'Elkjøp', 'Clas Ohlson', 'IKEA', 'Normal', 'H&M', 'Power'],
    health: ['Apotek 1', 'Vitusapotek', 'Boots apotek'],
    travel: ['Norwegian', 'SAS', 'Widerøe', 'Booking.com', 'Thon Hotels'],
    online: ['Komplett.no', 'Zalando', 'Apple.com/bill', 'Foodora', 'Wolt', 'Platekompaniet'],
    cafe: ['Narvesen', 'Kaffebrenneriet', 'Starbucks', '7-Eleven'],
  },
  subscriptions: [
    { name: 'Netflix', minor: 15_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'Spotify', minor: 12_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'Viaplay', minor: 19_900, channel: 'Card', category: 'Subscriptions' },
    { name: 'SATS', minor: 59_900, channel: 'DirectDebit', category: 'Subscriptions' },
    { name: 'Telenor', minor: 44_900, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'Altibox', minor: 69_900, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'Gjensidige', minor: 52_000, channel: 'DirectDebit', category: 'Insurance' },
  ],
  electricity: 'Tibber',
  p2p: 'Vipps',
  texts: {
    cardRaw: (name, city, dd, mm) => `VISA VARE ${dd}.${mm} ${upper(name)} ${upper(city)}`,
    salary: 'Lønn',
    salaryRaw: (employer) => `LØNN ${upper(employer)}`,
    rent: 'Husleie',
    rentRaw: (landlord) => `HUSLEIE ${upper(landlord)}`,
    directDebitRaw: (name) => `AVTALEGIRO ${upper(name)}`,
    cash: 'Kontantuttak',
    cashRaw: (city) => `MINIBANK ${upper(city)}`,
    fee: 'Gebyr',
    interest: 'Renter',
    toSavings: 'Overføring til sparekonto',
    fromSavings: 'Overføring fra sparekonto',
    fromCurrent: 'Overføring fra brukskonto',
    toCurrent: 'Overføring til brukskonto',
    cardBillPayment: 'Innbetaling kredittkort',
    income: 'Innbetaling',
    preauthorisation: 'Reservasjon',
  },
};

const FI: CountryProfile = {
  code: 'FI',
  priceFactor: 0.134,
  salary: [2_400, 4_200],
  roundTo: 10,
  payday: 15,
  firstNames: ['Anna', 'Maria', 'Liisa', 'Aino', 'Emma', 'Sofia', 'Helmi', 'Laura', 'Elina', 'Juha', 'Mikko', 'Timo', 'Matti', 'Jari', 'Antti', 'Ville', 'Eino', 'Leo', 'Onni', 'Janne'],
  lastNames: ['Korhonen', 'Virtanen', 'Mäkinen', 'Nieminen', 'Mäkelä', 'Hämäläinen', 'Laine', 'Heikkinen', 'Koskinen', 'Järvinen', 'Lehtonen', 'Lehtinen', 'Saarinen', 'Salminen', 'Heinonen'],
  cities: ['Helsinki', 'Espoo', 'Tampere', 'Vantaa', 'Oulu', 'Turku', 'Jyväskylä', 'Lahti'],
  employers: ['Pohjoisranta Logistiikka Oy', 'Kuusimäki Ohjelmistot Oy', 'Järvelä Rakennus Oy', 'Päiväkoti Tähtitaivas', 'Koivulan kaupunki', 'Revontuli Energia Oy'],
  landlords: ['Asunto Oy Koivula', 'Vuokrakodit Oy Tammela', 'Asunto Oy Merituuli', 'Kotiranta Vuokra-asunnot Oy'],
  accountNames: {
    current: ['Käyttötili', 'Palkkatili', 'Yhteistili', 'Laskutili'],
    savings: ['Säästötili', 'Tuottotili', 'Lomatili', 'Puskuritili', 'Lasten säästötili'],
    credit: ['Mastercard-luottokortti', 'Visa-luottokortti'],
    business: ['Yritystili'],
  },
  merchants: {
    groceries: ['K-Citymarket', 'K-Supermarket', 'Prisma', 'S-market', 'Lidl', 'Alepa', 'Sale', 'K-Market'],
    transport: ['HSL', 'VR', 'Nysse', 'Föli', 'Neste', 'ABC', 'St1', 'Teboil'],
    restaurants: ['Hesburger', 'Fazer Café', 'Kotipizza', 'Rax Buffet', 'Amarillo'],
    shopping: ['Alko', 'Stockmann', 'Tokmanni', 'Gigantti', 'IKEA', 'H&M', 'Clas Ohlson', 'Motonet'],
    health: ['Yliopiston Apteekki', 'Apteekki', 'Terveystalo'],
    travel: ['Finnair', 'Norwegian', 'Viking Line', 'Tallink Silja', 'Booking.com', 'Sokos Hotels'],
    online: ['Zalando', 'Verkkokauppa.com', 'Apple.com/bill', 'Wolt', 'Foodora', 'Adlibris'],
    cafe: ['R-kioski', "Robert's Coffee", 'Picnic', 'Espresso House'],
  },
  subscriptions: [
    { name: 'Netflix', minor: 1_299, channel: 'Card', category: 'Subscriptions' },
    { name: 'Spotify', minor: 1_099, channel: 'Card', category: 'Subscriptions' },
    { name: 'Elisa Viihde', minor: 1_690, channel: 'Card', category: 'Subscriptions' },
    { name: 'Elixia', minor: 5_900, channel: 'DirectDebit', category: 'Subscriptions' },
    { name: 'Elisa', minor: 2_990, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'DNA', minor: 3_490, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'If Vakuutus', minor: 3_850, channel: 'DirectDebit', category: 'Insurance' },
  ],
  electricity: 'Helen',
  p2p: 'MobilePay',
  texts: {
    cardRaw: (name, city, dd, mm) => `KORTTIOSTO ${dd}.${mm} ${upper(name)} ${upper(city)}`,
    salary: 'Palkka',
    salaryRaw: (employer) => `PALKKA ${upper(employer)}`,
    rent: 'Vuokra',
    rentRaw: (landlord) => `VUOKRA ${upper(landlord)}`,
    directDebitRaw: (name) => `E-LASKU ${upper(name)}`,
    cash: 'Käteisnosto',
    cashRaw: (city) => `OTTO ${upper(city)}`,
    fee: 'Palvelumaksu',
    interest: 'Korko',
    toSavings: 'Siirto säästötilille',
    fromSavings: 'Siirto säästötililtä',
    fromCurrent: 'Siirto käyttötililtä',
    toCurrent: 'Siirto käyttötilille',
    cardBillPayment: 'Luottokortin maksu',
    income: 'Maksu',
    preauthorisation: 'Varaus',
  },
};

const DE: CountryProfile = {
  code: 'DE',
  priceFactor: 0.134,
  salary: [2_200, 4_000],
  roundTo: 10,
  payday: 'last',
  firstNames: ['Anna', 'Julia', 'Laura', 'Lena', 'Sarah', 'Katharina', 'Sabine', 'Petra', 'Miriam', 'Thomas', 'Michael', 'Andreas', 'Stefan', 'Jan', 'Lukas', 'Felix', 'Tobias', 'Markus', 'Jonas'],
  lastNames: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf'],
  cities: ['Berlin', 'Hamburg', 'München', 'Köln', 'Frankfurt am Main', 'Stuttgart', 'Düsseldorf', 'Leipzig'],
  employers: ['Nordlicht Logistik GmbH', 'Kranich Software GmbH', 'Bergmann Maschinenbau AG', 'Kita Sonnenblume', 'Stadt Lindenau', 'Rheinwind Energie GmbH'],
  landlords: ['Wohnungsbau Lindenhof GmbH', 'Hausverwaltung Berger', 'Wohnungsgenossenschaft Eichengrund eG', 'Immobilien Altstadt GmbH'],
  accountNames: {
    current: ['Girokonto', 'Gemeinschaftskonto', 'Haushaltskonto'],
    savings: ['Tagesgeldkonto', 'Sparkonto', 'Urlaubskonto', 'Notgroschen'],
    credit: ['Kreditkarte Mastercard', 'Visa Kreditkarte'],
    business: ['Geschäftskonto'],
  },
  merchants: {
    groceries: ['REWE', 'EDEKA', 'ALDI SÜD', 'ALDI Nord', 'Lidl', 'Kaufland', 'Netto Marken-Discount', 'Penny'],
    transport: ['Deutsche Bahn', 'BVG', 'HVV', 'MVG', 'Aral', 'Shell', 'ESSO', 'JET'],
    restaurants: ["McDonald's", 'Vapiano', 'Dean & David', 'L’Osteria', 'Block House'],
    shopping: ['dm-drogerie markt', 'Rossmann', 'MediaMarkt', 'Saturn', 'IKEA', 'H&M', 'Galeria', 'Thalia'],
    health: ['Stadt-Apotheke', 'Rathaus-Apotheke', 'Fielmann'],
    travel: ['Lufthansa', 'Eurowings', 'Deutsche Bahn', 'Booking.com', 'Motel One'],
    online: ['Amazon', 'Zalando', 'Otto', 'Apple.com/bill', 'Lieferando'],
    cafe: ['Backwerk', 'Starbucks', 'Kamps', 'Tchibo'],
  },
  subscriptions: [
    { name: 'Netflix', minor: 1_399, channel: 'Card', category: 'Subscriptions' },
    { name: 'Spotify', minor: 1_099, channel: 'Card', category: 'Subscriptions' },
    { name: 'Disney+', minor: 999, channel: 'Card', category: 'Subscriptions' },
    { name: 'McFit', minor: 2_490, channel: 'DirectDebit', category: 'Subscriptions' },
    { name: 'Telekom', minor: 3_995, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'Vodafone', minor: 2_999, channel: 'DirectDebit', category: 'Utilities' },
    { name: 'HUK-Coburg', minor: 4_520, channel: 'DirectDebit', category: 'Insurance' },
  ],
  electricity: 'Stadtwerke',
  p2p: 'PayPal',
  texts: {
    cardRaw: (name, city, dd, mm) => `GIROCARD ${upper(name)}//${upper(city)}/DE ${dd}.${mm}`,
    salary: 'Gehalt',
    salaryRaw: (employer) => `GEHALT ${upper(employer)}`,
    rent: 'Miete',
    rentRaw: (landlord) => `MIETE ${upper(landlord)}`,
    directDebitRaw: (name) => `LASTSCHRIFT ${upper(name)}`,
    cash: 'Bargeldauszahlung',
    cashRaw: (city) => `BARGELDAUSZAHLUNG ${upper(city)}`,
    fee: 'Kontoführungsgebühr',
    interest: 'Zinsen',
    toSavings: 'Übertrag auf Tagesgeld',
    fromSavings: 'Übertrag von Tagesgeld',
    fromCurrent: 'Übertrag vom Girokonto',
    toCurrent: 'Übertrag auf Girokonto',
    cardBillPayment: 'Kreditkartenabrechnung',
    income: 'Gutschrift',
    preauthorisation: 'Vormerkung',
  },
};

export const COUNTRIES: Readonly<Record<SandboxCountry, CountryProfile>> = { DK, SE, NO, FI, DE };
