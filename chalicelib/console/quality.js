// Data quality: a partner's scorecard (its latest full delivery: per field completeness and
// validity, what each query form can find, the most frequent errors, the trend), and for
// administrators every partner ranked worst first.
import { get } from "./api.js";
import { session } from "./auth.js";
import { append, facts, h, replace, scrollBox, table } from "./dom.js";
import { date, lang, number, t, word } from "./i18n.js";
import { errorRegion, showError, statusRegion } from "./ui.js";

const state = { ranking: null, scorecard: null };
let rerender = () => {};

const FORMS = {
  policy_number: ["polisnummer", "policy number"],
  address: ["postcode + huisnummer", "postcode + house number"],
  name_birth_date: ["naam + geboortedatum", "name + birth date"],
  phone: ["telefoon", "phone"],
  email: ["e-mail", "e-mail"],
  kvk: ["KvK-nummer", "KvK number"],
};

/** A share 0..1 as a percentage; "–" with words for "no rows" (never an empty cell). */
function percent(value) {
  return value === null || value === undefined ? t("– (geen regels)", "– (no rows)") : `${number(value * 100, 1)} %`;
}

function scoreText(card) {
  const score = card.score;
  if (score === null || score === undefined) {
    // A latest full delivery that could not be read at all has no score either.
    return card.delivery_id
      ? t("levering niet te lezen", "delivery could not be read")
      : t("geen volledige levering", "no full delivery");
  }
  return `${number(score * 100, 1)} %`;
}

/** Per field: how many rows it applies to, fill and pass, as counts and shares. */
export function fieldTable(caption, fields) {
  return scrollBox(table(
    caption,
    [t("Veld", "Field"), t("Kolommen", "Columns"), t("Van toepassing", "Applicable"), t("Gevuld", "Filled"), t("Geldig", "Valid"), t("Volledigheid", "Completeness"), t("Geldigheid", "Validity"), t("Fouten", "Errors")],
    fields.map((field) => [
      word("field", field.field),
      field.columns.join(", "),
      number(field.applicable),
      number(field.filled),
      number(field.valid),
      percent(field.completeness),
      percent(field.validity),
      Object.entries(field.errors).map(([code, rows]) => `${code}: ${number(rows)}`).join(", "),
    ]),
  ));
}

function renderScorecard(container, card) {
  const message = (item) => (lang() === "en" ? item.message_en : item.message);
  append(
    container,
    session.role === "admin"
      ? h("button", { type: "button", class: "link back", onclick: () => { state.scorecard = null; rerender(); } }, t("Terug naar alle partners", "Back to every partner"), " (Esc)")
      : null,
    h("h1", { "data-autofocus": true, tabindex: "-1" }, t(`Datakwaliteit van ${card.partner_id}`, `Data quality of ${card.partner_id}`)),
    facts([
      [t("Score", "Score"), scoreText(card)],
      [t("Laatste volledige levering", "Latest full delivery"), card.received_at ? `${date(card.received_at)} (${word("delivery_status", card.status)})` : t("geen", "none")],
    ]),
    h("p", { class: "hint" }, t(
      "Volledigheid: gevulde regels van de regels waarvoor het veld geldt. Geldigheid: geldige waarden van de gevulde. De score is volledigheid × geldigheid, gemiddeld over de velden. Vindbaar: klanten (elke klant één keer, ook op meer regels) en regels die een zoekvorm vindt.",
      "Completeness: rows filled of the rows the field applies to. Validity: valid values of those filled. The score is completeness × validity, averaged over the fields. Findable: clients (each client once, also on several rows) and rows a search form finds.",
    )),
    card.fields.length ? fieldTable(t("Per veld", "Per field"), card.fields) : null,
    card.recognisable.length
      ? scrollBox(table(
          t("Vindbaar voor het servicecentrum, per zoekvorm", "Findable by the service centre, per search form"),
          [t("Zoekvorm", "Search form"), t("Klanten", "Clients"), t("Aandeel klanten", "Share of clients"), t("Regels", "Rows"), t("Aandeel regels", "Share of rows")],
          card.recognisable.map((item) => [
            FORMS[item.form] ? t(...FORMS[item.form]) : item.form,
            item.clients === null || item.clients === undefined ? t("– (niet geteld)", "– (not counted)") : number(item.clients),
            item.clients === null || item.clients === undefined ? t("– (niet geteld)", "– (not counted)") : percent(item.client_share),
            number(item.rows),
            percent(item.share),
          ]),
        ))
      : null,
    card.top_errors.length
      ? scrollBox(table(
          t("Meest voorkomende fouten", "Most frequent errors"),
          [t("Code", "Code"), t("Regels", "Rows"), t("Betekenis", "Meaning")],
          card.top_errors.map((error) => [error.code, number(error.rows), message(error)]),
        ))
      : null,
    card.trend.length
      ? scrollBox(table(
          t("Verloop over de volledige leveringen (oudste eerst)", "Trend over the full deliveries (oldest first)"),
          [t("Ontvangen", "Received"), t("Status", "Status"), t("Regels", "Rows"), t("Volledigheid", "Completeness"), t("Geldigheid", "Validity")],
          card.trend.map((point) => [date(point.received_at), word("delivery_status", point.status), number(point.rows), percent(point.completeness), percent(point.validity)]),
        ))
      : null,
  );
}

async function load(container, path, apply) {
  const problem = errorRegion();
  const status = statusRegion();
  append(container, problem, status);
  replace(status, t("Laden…", "Loading…"));
  try {
    apply(await get(path));
    rerender();
  } catch (error) {
    replace(status);
    if (error.kind !== "signin") showError(problem, error);
  }
}

function openScorecard(partnerId) {
  load(document.getElementById("main"), `v1/partners/${encodeURIComponent(partnerId)}/quality`, (card) => {
    state.scorecard = card;
  });
}

function renderRanking(container) {
  append(
    container,
    h("h1", { "data-autofocus": true, tabindex: "-1" }, t("Datakwaliteit per partner", "Data quality per partner")),
    scrollBox(table(
      t("Alle partners, slechtste score eerst", "Every partner, worst score first"),
      [t("Partner", "Partner"), t("Score", "Score"), t("Laatste volledige levering", "Latest full delivery"), t("Actie", "Action")],
      state.ranking.partners.map((card) => [
        card.partner_id,
        scoreText(card),
        card.received_at ? `${date(card.received_at)} (${word("delivery_status", card.status)})` : "",
        h("button", { type: "button", onclick: () => openScorecard(card.partner_id) }, t("Scorekaart", "Scorecard"), h("span", { class: "visually-hidden" }, ` ${card.partner_id}`)),
      ]),
    )),
  );
}

export const qualityScreen = {
  title: () => t("Datakwaliteit", "Data quality"),
  escape() {
    if (!(session.role === "admin" && state.scorecard)) return false;
    state.scorecard = null;
    rerender();
    return true;
  },
  render(container, context) {
    rerender = context.rerender;
    if (state.scorecard) renderScorecard(container, state.scorecard);
    else if (session.role !== "admin") {
      append(container, h("h1", { "data-autofocus": true, tabindex: "-1" }, t("Datakwaliteit", "Data quality")));
      load(container, `v1/partners/${encodeURIComponent(session.partnerId)}/quality`, (card) => {
        state.scorecard = card;
      });
    } else if (state.ranking) renderRanking(container);
    else {
      append(container, h("h1", { "data-autofocus": true, tabindex: "-1" }, t("Datakwaliteit per partner", "Data quality per partner")));
      load(container, "v1/partners/quality", (ranking) => {
        state.ranking = ranking;
      });
    }
  },
};

export function reset() {
  Object.assign(state, { ranking: null, scorecard: null });
}
