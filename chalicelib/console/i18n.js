// Dutch first, English on a toggle. Texts sit next to where they are used as t(nl, en); the
// values the API sends as codes (states, match kinds, decisions, error codes) are named here.

let language = "nl";
const listeners = [];

export function lang() {
  return language;
}

export function setLanguage(next) {
  language = next === "en" ? "en" : "nl";
  document.documentElement.lang = language;
  for (const listener of listeners) listener(language);
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

/** The text in the current language. */
export function t(nl, en) {
  return language === "en" ? en : nl;
}

/** A code from the API in words; unknown codes are shown as they are. */
export function word(group, code) {
  const entry = (WORDS[group] || {})[code];
  if (!entry) return code === undefined || code === null ? "" : String(code);
  return t(entry[0], entry[1]);
}

// The register's clock is Dutch: a moment the API gives in UTC is shown as the time in the
// Netherlands, the time the activation e-mail and the partner's own clock give.
const DUTCH_TIME = new Intl.DateTimeFormat("nl-NL", {
  timeZone: "Europe/Amsterdam",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/** A date (YYYY-MM-DD or an ISO time) as people write it: 16-04-2002, or with the time, in
 *  Dutch time when the value says its zone (`Z`, `+00:00`); with `utc`, the UTC clock time. */
export function date(value, { utc = false } = {}) {
  if (!value) return "";
  const text = String(value);
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(text);
  if (!match) return text;
  const day = `${match[3]}-${match[2]}-${match[1]}`;
  if (!match[4]) return day;
  const moment = !utc && /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) ? new Date(text) : null;
  if (!moment || Number.isNaN(moment.getTime())) return `${day} ${match[4]}:${match[5]}`;
  const part = Object.fromEntries(DUTCH_TIME.formatToParts(moment).map((p) => [p.type, p.value]));
  return `${part.day}-${part.month}-${part.year} ${part.hour}:${part.minute}`;
}

export function number(value, digits = 0) {
  if (value === undefined || value === null) return "";
  return Number(value).toLocaleString(language === "en" ? "en-GB" : "nl-NL", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

const WORDS = {
  role: {
    jsc: ["Juridisch servicecentrum", "Legal service centre"],
    partner: ["Partner", "Partner"],
    admin: ["Beheerder", "Administrator"],
    portal: ["Portaal", "Portal"],
  },
  field: {
    name: ["Naam", "Name"],
    given_name: ["Voornaam of voorletters", "First name or initials"],
    surname: ["Achternaam", "Surname"],
    first_name: ["Voornaam", "First name"],
    initials: ["Voorletters", "Initials"],
    birth_date: ["Geboortedatum", "Birth date"],
    address: ["Adres", "Address"],
    postcode: ["Postcode", "Postcode"],
    house_number: ["Huisnummer", "House number"],
    house_number_addition: ["Toevoeging", "Addition"],
    addition: ["Toevoeging", "Addition"],
    policy_number: ["Polisnummer", "Policy number"],
    partner_id: ["Partner", "Partner"],
    partner: ["Partner", "Partner"],
    phone: ["Telefoon", "Phone"],
    email: ["E-mail", "E-mail"],
    kvk: ["KvK-nummer", "KvK number"],
    initials_or_first_name: ["Voorletters of voornaam", "Initials or first name"],
    postcode_house_number: ["Postcode + huisnummer", "Postcode + house number"],
    end_date: ["Einddatum", "End date"],
    household: ["Gezinssamenstelling", "Household"],
    modules: ["Dekking (modules)", "Cover (modules)"],
    conditions: ["Voorwaarden", "Conditions"],
    clauses: ["Clausules", "Clauses"],
    event_date: ["Datum gebeurtenis", "Event date"],
    reported_date: ["Datum melding", "Reported date"],
    legal_area: ["Rechtsgebied", "Legal area"],
    claim_amount_eur: ["Bedrag van het geschil", "Amount in dispute"],
    client_id: ["Klantnummer", "Client number"],
    mandate_id: ["Machtigingsnummer", "Mandate number"],
    reason: ["Reden", "Reason"],
  },
  how: {
    exact: ["exact gelijk", "exact"],
    phonetic: ["klinkt gelijk", "sounds the same"],
    similar: ["lijkt erop", "similar"],
    "other address": ["ander adres bij de partner", "other address at the partner"],
    different: ["wijkt af", "different"],
    "not given": ["niet opgegeven", "not given"],
  },
  policy_status: {
    active: ["lopend", "active"],
    cancelled: ["beëindigd", "ended"],
    removed_from_portfolio: ["niet meer geleverd", "no longer delivered"],
    expired: ["verlopen", "expired"],
  },
  party_role: {
    VP: ["verzekeringnemer", "policyholder"],
    SP: ["partner van verzekeringnemer", "policyholder's partner"],
    KN: ["kind", "child"],
    VZ: ["verzekerde", "insured person"],
  },
  decision: {
    covered: ["Gedekt", "Covered"],
    not_covered: ["Niet gedekt", "Not covered"],
    advice_only: ["Alleen advies", "Advice only"],
    review: ["Beoordelen", "Needs review"],
  },
  outcome: {
    pass: ["voldaan", "passed"],
    fail: ["niet voldaan", "failed"],
    warn: ["let op", "warning"],
  },
  legal_area: {
    verkeer: ["verkeer", "traffic"],
    consument: ["consument", "consumer"],
    wonen: ["wonen", "housing"],
    werk: ["werk", "employment"],
    inkomen: ["inkomen", "income"],
    fiscaal: ["fiscaal", "tax"],
    vermogen: ["vermogen", "assets"],
    familie: ["familie", "family"],
  },
  delivery_status: {
    received: ["ontvangen", "received"],
    processing: ["in verwerking", "processing"],
    accepted: ["geaccepteerd", "accepted"],
    accepted_with_errors: ["geaccepteerd met fouten", "accepted with errors"],
    rejected: ["afgewezen", "rejected"],
    held_for_review: ["aangehouden ter controle", "held for review"],
    confirmed: ["bevestigd", "confirmed"],
  },
  kind: {
    full: ["volledig bestand", "full file"],
    mutation: ["mutatiebestand", "mutation file"],
    check: ["controlebestand (niets opgeslagen)", "check only (nothing stored)"],
  },
  mandate_state: {
    submitted: ["aangevraagd", "submitted"],
    approved: ["goedgekeurd", "approved"],
    active: ["actief", "active"],
    rejected: ["afgewezen", "rejected"],
    revoked: ["ingetrokken", "revoked"],
    expired: ["verlopen", "expired"],
  },
};
