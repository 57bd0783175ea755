// The legal service centre's screen: one search box, the candidates with how each matched, the
// dossier, and a coverage check from a chosen policy. Keyboard: type, Enter searches, arrows
// choose a candidate, Enter opens it, Escape goes back (and clears the box on the search).
// Searching happens on Enter only: every lookup is audited, so half-typed names are not sent.
import { get, post } from "./api.js";
import { append, facts, field, h, replace, scrollBox, table } from "./dom.js";
import { date, lang, number, t, word } from "./i18n.js";
import { busy, errorRegion, showError, statusRegion } from "./ui.js";

const state = {
  view: "search", // search | dossier | coverage
  typed: "",
  searched: "",
  result: null,
  active: 0,
  dossier: null,
  policy: null,
  check: null,
  form: {},
};

const LEGAL_AREAS = ["verkeer", "consument", "wonen", "werk", "inkomen", "fiscaal", "vermogen", "familie"];

export function addressText(address) {
  if (!address) return "";
  const house = [address.house_number, address.house_number_addition].filter(Boolean).join("-");
  const street = [address.street, house].filter(Boolean).join(" ");
  const place = [address.postcode, address.city].filter(Boolean).join(" ");
  return [street, place].filter(Boolean).join(", ");
}

function similarity(explanation) {
  return explanation.similarity === null || explanation.similarity === undefined
    ? ""
    : ` (${number(explanation.similarity, 2)})`;
}

function policyLine(policy) {
  const parts = [word("policy_status", policy.status)];
  if (policy.role) parts.push(word("party_role", policy.role));
  return `${policy.partner_id} ${policy.policy_number} (${parts.join(", ")})`;
}

function candidateItem(candidate, index) {
  const fields = Object.entries(candidate.match.fields || {});
  return h(
    "li",
    {
      role: "option",
      id: `candidate-${index}`,
      class: "candidate",
      "aria-selected": index === state.active ? "true" : "false",
      onclick: () => {
        state.active = index;
        openDossier(candidate.client_id);
      },
    },
    h(
      "div",
      { class: "candidate-head" },
      h("strong", { class: "name" }, candidate.name.display),
      candidate.birth_date ? h("span", {}, date(candidate.birth_date)) : null,
      candidate.kvk ? h("span", {}, `KvK ${candidate.kvk}`) : null,
      h("span", { class: "score" }, t("overeenkomst ", "match "), number(candidate.match.score, 2)),
    ),
    h("div", { class: "address" }, addressText(candidate.address)),
    h(
      "ul",
      { class: "explain", "aria-label": t("Hoe deze kandidaat overeenkomt", "How this candidate matched") },
      fields.map(([name, explanation]) =>
        h(
          "li",
          { class: `how how-${explanation.how.replace(/\s+/g, "-")}` },
          `${word("field", name)}: ${word("how", explanation.how)}${similarity(explanation)}`,
        ),
      ),
    ),
    h(
      "ul",
      { class: "policies", "aria-label": t("Polissen", "Policies") },
      candidate.policies.map((policy) => h("li", {}, policyLine(policy))),
    ),
    candidate.truncated
      ? h("p", { class: "notice" }, t("Niet alle polissen staan hier.", "Not every policy is listed here."))
      : null,
  );
}

function renderSearch(container) {
  const input = h("input", {
    id: "search-box",
    type: "search",
    name: "q",
    autocomplete: "off",
    spellcheck: "false",
    "data-autofocus": true,
    "aria-controls": "candidates",
    maxlength: "200",
    value: state.typed,
  });
  const button = h("button", { type: "submit" }, t("Zoeken", "Search"));
  const problem = errorRegion();
  const status = statusRegion();
  const list = h("ol", {
    id: "candidates",
    role: "listbox",
    class: "candidates",
    "aria-label": t("Kandidaten", "Candidates"),
  });

  const paint = () => {
    const candidates = state.result ? state.result.candidates : [];
    replace(list, candidates.map(candidateItem));
    if (candidates.length) input.setAttribute("aria-activedescendant", `candidate-${state.active}`);
    else input.removeAttribute("aria-activedescendant");
    if (!state.result) {
      replace(status);
    } else if (candidates.length) {
      replace(
        status,
        candidates.length === 1
          ? t("1 kandidaat. Pijltjes kiezen, Enter opent het dossier.", "1 candidate. Arrows choose, Enter opens the dossier.")
          : t(`${candidates.length} kandidaten. Pijltjes kiezen, Enter opent het dossier.`,
              `${candidates.length} candidates. Arrows choose, Enter opens the dossier.`),
        state.result.truncated ? t(" Er zijn er meer: maak de zoekvraag preciezer.", " There are more: make the search more precise.") : "",
      );
    } else {
      // The API's advice starts with "nobody found by …": a sentence of its own.
      const advice = t(state.result.next_try_nl, state.result.next_try);
      replace(status, advice ? advice.charAt(0).toUpperCase() + advice.slice(1) + "." : t("Niemand gevonden.", "Nobody found."));
    }
  };

  const search = async () => {
    const query = input.value.trim();
    if (!query) return;
    await busy(button, problem, async () => {
      // In the body, not the URL: what a caller says is personal data.
      const result = await post("v1/clients/search", { q: query });
      state.searched = input.value;
      state.result = result;
      state.active = 0;
      paint();
    });
  };

  const move = (step) => {
    const count = state.result ? state.result.candidates.length : 0;
    if (!count) return;
    state.active = (state.active + step + count) % count;
    for (const item of list.children) {
      item.setAttribute("aria-selected", item.id === `candidate-${state.active}` ? "true" : "false");
    }
    input.setAttribute("aria-activedescendant", `candidate-${state.active}`);
    list.children[state.active].scrollIntoView({ block: "nearest" });
  };

  input.addEventListener("input", () => {
    state.typed = input.value;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      move(1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      move(-1);
    } else if (event.key === "Escape") {
      event.preventDefault();
      input.value = "";
      state.typed = "";
      state.searched = "";
      state.result = null;
      paint();
    }
  });

  const form = h(
    "form",
    {
      role: "search",
      class: "search",
      onsubmit: (event) => {
        event.preventDefault();
        const candidates = state.result ? state.result.candidates : [];
        if (candidates.length && input.value === state.searched) {
          openDossier(candidates[state.active].client_id);
        } else {
          search();
        }
      },
    },
    field(
      t("Zoek een klant", "Find a client"),
      input,
      t(
        "Wat de beller zegt: postcode en huisnummer, naam met geboortedatum, polisnummer, telefoon, e-mail of KvK-nummer.",
        "What the caller says: postcode and house number, name with birth date, policy number, phone, e-mail or KvK number.",
      ),
    ),
    button,
  );
  append(container, h("h1", { class: "visually-hidden" }, t("Klant zoeken", "Find a client")), form, problem, status, list);
  paint();
}

let rerender = () => {};

async function openDossier(clientId) {
  const main = document.getElementById("main");
  const problem = main.querySelector(".error") || errorRegion();
  let dossier;
  try {
    dossier = await get(`v1/clients/${encodeURIComponent(clientId)}`);
  } catch (error) {
    if (error.kind !== "signin") showError(problem, error);
    return;
  }
  // The coverage form holds a caller's claim: another client's dossier is another caller, whose
  // check must not start from the previous caller's dates, legal area and amount.
  if (!state.dossier || state.dossier.client_id !== dossier.client_id) state.form = {};
  state.dossier = dossier;
  state.view = "dossier";
  state.check = null;
  rerender();
}

function back() {
  if (state.view === "coverage") {
    state.view = "dossier";
  } else if (state.view === "dossier") {
    state.view = "search";
  }
  rerender();
}

function backButton(text) {
  return h("button", { type: "button", class: "link back", onclick: back }, text, " (Esc)");
}

function renderDossier(container) {
  const dossier = state.dossier;
  const policies = dossier.policies.map((policy) => [
    policy.partner_id,
    policy.policy_number,
    word("policy_status", policy.status),
    word("party_role", policy.role),
    policy.product || "",
    policy.modules.join(", "),
    policy.conditions || "",
    policy.clauses.join(", "),
    policy.household || "",
    [date(policy.start_date), date(policy.end_date || policy.ended_on)].filter(Boolean).join(" – "),
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          state.policy = policy;
          state.view = "coverage";
          state.check = null;
          rerender();
        },
      },
      t("Dekking controleren", "Check coverage"),
      h("span", { class: "visually-hidden" }, ` ${policy.policy_number}`),
    ),
  ]);
  const parties = dossier.parties.map((party) => [
    `${party.partner_id} ${party.policy_number}`,
    word("party_role", party.role),
    party.name.display,
    date(party.birth_date),
    addressText(party.address),
    [party.email, party.phone, party.mobile].filter(Boolean).join(", "),
  ]);
  append(container, 
    backButton(t("Terug naar zoeken", "Back to the search")),
    h("h1", { class: "name", "data-autofocus": true, tabindex: "-1" }, dossier.name.display),
    facts([
      [t("Geboortedatum", "Birth date"), date(dossier.birth_date)],
      [t("KvK-nummer", "KvK number"), dossier.kvk],
      [t("Adres", "Address"), addressText(dossier.address)],
      [t("Partners", "Partners"), dossier.partners.join(", ")],
    ]),
    scrollBox(table(
        t("Polissen per partner", "Policies per partner"),
        [
          t("Partner", "Partner"),
          t("Polisnummer", "Policy number"),
          t("Status", "Status"),
          t("Rol", "Role"),
          t("Product", "Product"),
          t("Modules", "Modules"),
          t("Voorwaarden", "Conditions"),
          t("Clausules", "Clauses"),
          t("Gezin", "Household"),
          t("Looptijd", "Term"),
          t("Actie", "Action"),
        ],
        policies,
      )),
    scrollBox(table(
        t("Betrokkenen op deze polissen", "Parties on these policies"),
        [t("Polis", "Policy"), t("Rol", "Role"), t("Naam", "Name"), t("Geboortedatum", "Birth date"), t("Adres", "Address"), t("Contact", "Contact")],
        parties,
      )),
    dossier.truncated ? h("p", { class: "notice" }, t("Niet alles past op dit scherm.", "Not everything fits on this screen.")) : null,
  );
}

function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function renderCoverage(container) {
  const policy = state.policy;
  const dossier = state.dossier;
  const form = state.form;
  const eventDate = h("input", { type: "date", name: "event_date", required: true, value: form.event_date || "", "data-autofocus": true });
  const reportedDate = h("input", { type: "date", name: "reported_date", required: true, value: form.reported_date || today() });
  const area = h(
    "select",
    { name: "legal_area", required: true },
    LEGAL_AREAS.map((value) => h("option", { value, selected: value === form.legal_area }, word("legal_area", value))),
  );
  const amount = h("input", { type: "number", name: "claim_amount_eur", min: "0", step: "0.01", inputmode: "decimal", value: form.claim_amount_eur || "" });
  const askers = new Map();
  askers.set(dossier.client_id, `${dossier.name.display} (${t("deze klant", "this client")})`);
  for (const party of dossier.parties) {
    if (party.partner_id === policy.partner_id && party.policy_number === policy.policy_number && !askers.has(party.client_id)) {
      askers.set(party.client_id, `${party.name.display} (${word("party_role", party.role)})`);
    }
  }
  const asker = h(
    "select",
    { name: "asker" },
    [...askers].map(([value, label]) => h("option", { value, selected: value === form.asker }, label)),
  );
  const button = h("button", { type: "submit" }, t("Dekking beoordelen", "Assess coverage"));
  const problem = errorRegion();
  const outcome = h("section", { class: "outcome", "aria-live": "polite" });
  const keep = () => {
    Object.assign(state.form, {
      event_date: eventDate.value,
      reported_date: reportedDate.value,
      legal_area: area.value,
      claim_amount_eur: amount.value,
      asker: asker.value,
    });
  };
  const element = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        keep();
        // The decision on screen was for the values sent before: gone before the next answer,
        // so a refused check leaves none that the form no longer holds.
        state.check = null;
        paintOutcome(outcome);
        await busy(button, problem, async () => {
          const body = {
            partner_id: policy.partner_id,
            policy_number: policy.policy_number,
            event_date: eventDate.value,
            reported_date: reportedDate.value,
            legal_area: area.value,
            client_id: asker.value,
          };
          if (amount.value !== "") body.claim_amount_eur = Number(amount.value);
          state.check = await post("v1/coverage-checks", body);
          paintOutcome(outcome);
          outcome.focus();
        });
      },
    },
    h("h2", {}, t("Gegevens van de melding", "The claim")),
    field(t("Datum gebeurtenis", "Event date"), eventDate),
    field(t("Datum melding", "Reported date"), reportedDate),
    field(t("Rechtsgebied", "Legal area"), area),
    field(t("Bedrag van het geschil (euro, optioneel)", "Amount in dispute (euro, optional)"), amount),
    field(t("Wie belt er?", "Who is asking?"), asker),
    button,
    problem,
  );
  append(container, 
    backButton(t("Terug naar het dossier", "Back to the dossier")),
    h("h1", {}, t("Dekking controleren", "Check coverage")),
    facts([
      [t("Polis", "Policy"), `${policy.partner_id} ${policy.policy_number}`],
      [t("Status", "Status"), word("policy_status", policy.status)],
      [t("Modules", "Modules"), policy.modules.join(", ")],
    ]),
    element,
    outcome,
  );
  outcome.setAttribute("tabindex", "-1");
  paintOutcome(outcome);
}

const DECISION_MARK = { covered: "✓", not_covered: "✗", advice_only: "i", review: "?" };
const OUTCOME_MARK = { pass: "✓", fail: "✗", warn: "!" };

function paintOutcome(outcome) {
  const check = state.check;
  if (!check) {
    replace(outcome);
    return;
  }
  const message = (item) => (lang() === "en" ? item.message_en : item.message_nl);
  replace(
    outcome,
    h(
      "h2",
      { class: `decision decision-${check.decision}` },
      h("span", { "aria-hidden": "true", class: "mark" }, DECISION_MARK[check.decision] || ""),
      ` ${t("Beslissing", "Decision")}: `,
      h("span", { class: "decision-word" }, word("decision", check.decision)),
    ),
    h(
      "ol",
      { class: "reasons", "aria-label": t("Redenen per regel", "Reasons per rule") },
      check.reasons.map((reason) =>
        h(
          "li",
          { class: `reason outcome-${reason.outcome}` },
          h("span", { class: "outcome-word" }, h("span", { "aria-hidden": "true" }, OUTCOME_MARK[reason.outcome] || ""), ` ${word("outcome", reason.outcome)}`),
          " — ",
          h("span", { class: "reason-text" }, message(reason)),
        ),
      ),
    ),
    facts([
      [t("Voorwaarden", "Conditions"), check.conditions],
      [t("Clausules", "Clauses"), check.clauses.join(", ")],
    ]),
    check.objection
      ? h(
          "section",
          { class: "objection" },
          h("h3", {}, t("Bezwaarroute (om voor te lezen)", "Objection route (to read out)")),
          h("p", {}, message(check.objection)),
          h("ol", {}, check.objection.steps.map((step) => h("li", {}, message(step)))),
        )
      : null,
  );
}

export const searchScreen = {
  title: () => t("Klant zoeken", "Find a client"),
  /** Escape outside the search box: one step back. */
  escape() {
    if (state.view === "search") return false;
    back();
    return true;
  },
  render(container, context) {
    rerender = context.rerender;
    if (state.view === "dossier" && state.dossier) renderDossier(container);
    else if (state.view === "coverage" && state.policy) renderCoverage(container);
    else {
      state.view = "search";
      renderSearch(container);
    }
  },
};

/** Forget everything about the last caller (signing out, another user). */
export function reset() {
  Object.assign(state, { view: "search", typed: "", searched: "", result: null, active: 0, dossier: null, policy: null, check: null, form: {} });
}
