// Shared pieces of the screens: errors as people read them, status lines, busy buttons.
import { get } from "./api.js";
import { h, replace } from "./dom.js";
import { t, word } from "./i18n.js";

const ERRORS = {
  query_too_broad: [
    "Deze zoekvraag past op te veel mensen. Voeg een geboortedatum, postcode met huisnummer of polisnummer toe.",
    "This search fits too many people. Add a birth date, a postcode and house number, or a policy number.",
  ],
  invalid_query: ["Deze zoekvraag is niet geldig.", "This search is not valid."],
  client_not_found: ["Deze klant staat niet (meer) in het register.", "This client is not (or no longer) in the register."],
  policy_not_found: ["Deze polis staat niet (meer) in het register.", "This policy is not (or no longer) in the register."],
  delivery_not_found: ["Deze levering bestaat niet (of is niet van u).", "This delivery does not exist (or is not yours)."],
  delivery_not_finished: [
    "Het bestand met afgewezen regels is er zodra de levering klaar is.",
    "The rejected-rows file is there once the delivery has finished.",
  ],
  delivery_not_held: ["Deze levering wordt niet (meer) aangehouden.", "This delivery is not (or no longer) held."],
  mandate_not_found: ["Deze machtiging bestaat niet.", "This mandate does not exist."],
  invalid_state: ["Dit kan niet meer in de huidige status.", "This is no longer possible in the current state."],
  validation_failed: ["Niet alle velden zijn goed ingevuld.", "Not every field is filled in correctly."],
  role_not_allowed: ["Uw rol mag dit niet.", "Your role may not do this."],
  other_partner: ["Dit is van een andere partner.", "This belongs to another partner."],
  not_partners_client: ["Dit is geen klant van uw organisatie.", "This is not a client of your organisation."],
  contract_of_other_partner: [
    "De machtiging noemt een contract van een andere organisatie.",
    "The mandate lists a contract of another organisation.",
  ],
  throttled: ["Het register is even druk. Probeer het zo opnieuw.", "The register is busy. Try again in a moment."],
  unavailable: ["Het register is tijdelijk niet bereikbaar. Probeer het later opnieuw.", "The register is unavailable. Try again later."],
};

/** The text an employee reads for a failed call: never a stack trace. */
export function errorText(error) {
  if (!error || !error.kind) return t("Er ging iets mis. Probeer het opnieuw.", "Something went wrong. Try again.");
  if (error.kind === "unreachable") {
    return t(
      "De API is niet bereikbaar. Controleer de verbinding en probeer het opnieuw.",
      "The API cannot be reached. Check the connection and try again.",
    );
  }
  const known = ERRORS[error.code];
  if (error.kind === "server") {
    return known
      ? t(known[0], known[1])
      : t(`Storing bij het register (fout ${error.status}). Probeer het later opnieuw.`,
          `The register has a fault (error ${error.status}). Try again later.`);
  }
  const text = known ? t(known[0], known[1]) : error.apiMessage || error.code;
  const fields = (error.details || [])
    .map((detail) => (detail && detail.field ? word("field", detail.field) || detail.field : ""))
    .filter(Boolean);
  return fields.length ? `${text} (${fields.join(", ")})` : text;
}

/** An error region: role=alert, so screen readers announce it; empty when there is none. */
export function errorRegion() {
  return h("div", { class: "error", role: "alert" });
}

export function showError(region, error) {
  if (!error) {
    replace(region);
    return;
  }
  showProblem(region, errorText(error));
}

/** A problem the page finds itself, before asking the API, shown as the API's are. */
export function showProblem(region, text) {
  replace(region, h("strong", {}, t("Fout: ", "Error: ")), text);
}

export function statusRegion() {
  return h("p", { class: "status", role: "status", "aria-live": "polite" });
}

/** Runs `action` with the button disabled and marked busy; errors go to `region`. */
export async function busy(button, region, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (region) showError(region, null);
  try {
    return await action();
  } catch (error) {
    if (error && error.kind === "signin") return undefined;
    if (region) showError(region, error);
    else throw error;
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** A button that reads the next, older page of a listing the API (`path`) answers in pages:
 *  `shown()` is [what is shown ({[items]: [...], next_cursor}), the query it was read with];
 *  `show(longer)` gets it with the next page's `items` added at the end. */
export function olderPagesButton(label, region, path, items, shown, show) {
  const button = h("button", { type: "button" }, label);
  button.addEventListener("click", () =>
    busy(button, region, async () => {
      const [listing, query] = shown();
      const page = await get(path, { ...query, cursor: listing.next_cursor });
      show({ ...page, [items]: [...listing[items], ...page[items]] });
    }),
  );
  return button;
}
