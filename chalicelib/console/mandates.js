// Mandate requests: open one by its number (or a client's, by client id), read what was
// requested, and approve, reject, resend the activation link or revoke, as its state allows.
// The API has no list of a partner's open requests; the number comes with the request.
import { get, post } from "./api.js";
import { append, facts, field, h, replace, scrollBox, table } from "./dom.js";
import { date, t, word } from "./i18n.js";
import { busy, errorRegion, showProblem, statusRegion } from "./ui.js";

const state = { lookup: "", list: null, mandate: null, done: "" };
let rerender = () => {};

// What the box takes (the API's id shapes). Anything else is not sent: a name or birth date
// typed here would otherwise travel in the URL of GET /v1/mandates?client_id=.
const MANDATE_NUMBER = /^m_[0-9a-f]{24}$/;
const CLIENT_NUMBER = /^c_[0-9a-f]{24}$/;

const ACTIONS = [
  // action, states it applies to, button text, what the status line says afterwards
  ["approve", ["submitted"], ["Goedkeuren", "Approve"], ["Goedgekeurd: de activeringslink wordt gemaild.", "Approved: the activation link is being e-mailed."]],
  ["reject", ["submitted"], ["Afwijzen", "Reject"], ["Afgewezen.", "Rejected."]],
  ["resend", ["approved"], ["Link opnieuw sturen", "Resend the link"], ["Een nieuwe link wordt gemaild; de vorige werkt niet meer.", "A new link is being e-mailed; the previous one no longer works."]],
  ["revoke", ["submitted", "approved", "active"], ["Intrekken", "Revoke"], ["Ingetrokken.", "Revoked."]],
];

const KINDS = {
  policyholder: ["verzekeringnemer zelf", "the policyholder"],
  insured_person: ["verzekerde", "an insured person"],
  someone_else: ["iemand anders", "someone else"],
  legal_representative: ["wettelijk vertegenwoordiger", "legal representative"],
  natural_person: ["natuurlijk persoon", "natural person"],
  legal_entity: ["rechtspersoon", "legal entity"],
  all: ["alle polissen, ook latere", "every policy, later ones too"],
  single: ["één polis", "one policy"],
  listed: ["de genoemde polissen", "the listed policies"],
};

function kind(code) {
  return KINDS[code] ? t(...KINDS[code]) : code;
}

function personText(person) {
  if (!person || typeof person !== "object") return "";
  const name = [person.first_name || person.initials, person.tussenvoegsels, person.surname].filter(Boolean).join(" ");
  return [name, person.birth_date ? date(person.birth_date) : "", person.email].filter(Boolean).join(", ");
}

function actorText(actor) {
  if (!actor) return t("de gemachtigde (via de link)", "the grantee (through the link)");
  return [actor.subject, word("role", actor.role), actor.partner_id].filter(Boolean).join(" · ");
}

async function open(mandateId) {
  const mandate = await get(`v1/mandates/${encodeURIComponent(mandateId)}`);
  state.mandate = mandate;
  state.done = "";
  rerender();
  return mandate;
}

function renderLookup(container) {
  const input = h("input", { type: "text", name: "lookup", autocomplete: "off", spellcheck: "false", value: state.lookup, "data-autofocus": true, maxlength: "40" });
  const button = h("button", { type: "submit" }, t("Openen", "Open"));
  const problem = errorRegion();
  const holder = h("div", {});
  const paint = () => {
    if (!state.list) {
      replace(holder);
      return;
    }
    replace(
      holder,
      state.list.mandates.length
        ? scrollBox(table(
            t("Machtigingen van deze klant", "Mandates of this client"),
            [t("Nummer", "Number"), t("Status", "State"), t("Gemachtigde", "Grantee"), t("Aangevraagd", "Submitted"), t("Actie", "Action")],
            state.list.mandates.map((mandate) => [
              mandate.mandate_id,
              word("mandate_state", mandate.state),
              kind(mandate.grantee_kind),
              date(mandate.submitted_at),
              h("button", { type: "button", onclick: () => busy(button, problem, () => open(mandate.mandate_id)) }, t("Openen", "Open"), h("span", { class: "visually-hidden" }, ` ${mandate.mandate_id}`)),
            ]),
          ))
        : h("p", {}, t("Deze klant heeft geen machtigingen.", "This client has no mandates.")),
    );
  };
  const form = h(
    "form",
    {
      class: "controls",
      onsubmit: (event) => {
        event.preventDefault();
        const value = input.value.trim().toLowerCase();
        // The list on screen was another number's: gone before this one's answer or refusal.
        state.list = null;
        paint();
        if (!MANDATE_NUMBER.test(value) && !CLIENT_NUMBER.test(value)) {
          showProblem(
            problem,
            t(
              "Typ een machtigingsnummer (m_ en 24 tekens) of een klantnummer (c_ en 24 tekens). Op naam of geboortedatum zoekt u hier niet.",
              "Type a mandate number (m_ and 24 characters) or a client number (c_ and 24 characters). This box does not search by name or birth date.",
            ),
          );
          return;
        }
        state.lookup = value;
        busy(button, problem, async () => {
          if (MANDATE_NUMBER.test(value)) {
            await open(value);
          } else {
            state.list = await get("v1/mandates", { client_id: value });
            paint();
          }
        });
      },
    },
    field(
      t("Machtigingsnummer of klantnummer", "Mandate number or client number"),
      input,
      t("Een machtigingsnummer begint met m_, een klantnummer met c_.", "A mandate number starts with m_, a client number with c_."),
    ),
    button,
  );
  append(container, h("h1", {}, t("Machtigingen", "Mandates")), form, problem, holder);
  paint();
}

function renderMandate(container) {
  const mandate = state.mandate;
  const request = mandate.request || {};
  const problem = errorRegion();
  const status = statusRegion();
  replace(status, state.done);
  const reason = h("input", { type: "text", name: "reason", autocomplete: "off", maxlength: "500" });
  const buttons = ACTIONS.filter(([, states]) => states.includes(mandate.state)).map(([action, , label, done]) => {
    const ends = action === "reject" || action === "revoke";
    const button = h("button", { type: "button", class: ends ? "danger" : false }, t(...label));
    button.addEventListener("click", () =>
      busy(button, problem, async () => {
        const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
        const changed = await post(`v1/mandates/${encodeURIComponent(mandate.mandate_id)}/${action}`, body);
        state.mandate = changed;
        // The client's list this mandate was opened from shows its new state on the way back.
        if (state.list) {
          state.list = { ...state.list, mandates: state.list.mandates.map((m) => (m.mandate_id === changed.mandate_id ? changed : m)) };
        }
        state.done = t(...done);
        rerender();
      }),
    );
    return button;
  });
  append(
    container,
    h("button", { type: "button", class: "link back", onclick: () => { state.mandate = null; rerender(); } }, t("Terug", "Back"), " (Esc)"),
    h("h1", { "data-autofocus": true, tabindex: "-1" }, t("Machtiging", "Mandate"), ` ${mandate.mandate_id}`),
    status,
    facts([
      [t("Status", "State"), word("mandate_state", mandate.state)],
      [t("Klantnummer", "Client number"), mandate.client_id],
      [t("Houder", "Holder"), kind(mandate.holder_kind)],
      [t("Gemachtigde", "Grantee"), `${kind(mandate.grantee_kind)}: ${personText(request.grantee)}`],
      [t("Aanvrager", "Requester"), personText(request.requester)],
      [t("Reikwijdte", "Scope"), kind(mandate.scope)],
      [t("Polissen", "Policies"), mandate.contracts.map((c) => `${c.partner_id} ${c.policy_number}`).join(", ")],
      [t("Aangevraagd", "Submitted"), `${date(mandate.submitted_at)} · ${actorText(mandate.submitted_by)}`],
      [t("Link geldig tot", "Link valid until"), date(mandate.activation_expires_at)],
      [t("Geactiveerd", "Activated"), date(mandate.activated_at)],
    ]),
    buttons.length
      ? h("div", { class: "card" }, field(t("Reden (optioneel, komt in de historie)", "Reason (optional, kept in the history)"), reason), h("div", { class: "controls" }, buttons), problem)
      : problem,
    scrollBox(table(
      t("Historie", "History"),
      [t("Wanneer", "When"), t("Status", "State"), t("Door", "By"), t("Reden", "Reason")],
      mandate.history.map((change) => [date(change.at), word("mandate_state", change.state), actorText(change.by), change.reason || ""]),
    )),
  );
}

export const mandatesScreen = {
  title: () => t("Machtigingen", "Mandates"),
  escape() {
    if (!state.mandate) return false;
    state.mandate = null;
    rerender();
    return true;
  },
  render(container, context) {
    rerender = context.rerender;
    if (state.mandate) renderMandate(container);
    else renderLookup(container);
  },
};

export function reset() {
  Object.assign(state, { lookup: "", list: null, mandate: null, done: "" });
}
