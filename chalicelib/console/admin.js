// Administrators: held full deliveries (confirm says how many policies will end) and the audit
// log by actor and day.
import { get, post } from "./api.js";
import { append, field, h, replace, scrollBox, table } from "./dom.js";
import { date, number, t, word } from "./i18n.js";
import { deliveryHeaders, deliveryRows } from "./partner.js";
import { busy, errorRegion, olderPagesButton, statusRegion } from "./ui.js";

const HELD_QUERY = { status: "held_for_review", limit: 200 };
const state = { held: null, asking: null, done: null, audit: null, auditQuery: null, actor: "", day: "" };

function endingText(delivery) {
  const count = delivery.policies_pending_removal;
  return t(
    `Bevestigen beëindigt ${number(count)} ${count === 1 ? "polis" : "polissen"} van ${delivery.partner_id}.`,
    `Confirming ends ${number(count)} ${count === 1 ? "policy" : "policies"} of ${delivery.partner_id}.`,
  );
}

function renderHeld(container, rerender) {
  const problem = errorRegion();
  const status = statusRegion();
  const holder = h("div", {});
  const refresh = h("button", { type: "button" }, t("Vernieuwen", "Refresh"));
  const load = () =>
    busy(refresh, problem, async () => {
      state.held = await get("v1/deliveries", HELD_QUERY);
      paint();
    });
  const confirmBox = (delivery) => {
    const yes = h("button", { type: "button", class: "danger" }, t(`Ja, beëindig ${number(delivery.policies_pending_removal)} polissen`, `Yes, end ${number(delivery.policies_pending_removal)} policies`));
    const no = h("button", { type: "button", onclick: () => { state.asking = null; paint(); } }, t("Annuleren", "Cancel"));
    yes.addEventListener("click", () =>
      busy(yes, problem, async () => {
        const confirmed = await post(`v1/deliveries/${encodeURIComponent(delivery.delivery_id)}/confirm`);
        state.asking = null;
        state.done = t(
          `Bevestigd: ${number(confirmed.policies_pending_removal || delivery.policies_pending_removal)} polissen van ${confirmed.partner_id} worden beëindigd.`,
          `Confirmed: ${number(confirmed.policies_pending_removal || delivery.policies_pending_removal)} policies of ${confirmed.partner_id} are being ended.`,
        );
        await load();
      }),
    );
    return h("div", { class: "confirm", role: "group", "aria-label": t("Bevestigen", "Confirm") }, h("p", { class: "warning" }, "⚠ ", endingText(delivery)), yes, no);
  };
  // Only the held deliveries, however many newer ones there are; past one answer, the older.
  const older = olderPagesButton(t("Oudere aangehouden leveringen laden", "Load older held deliveries"), problem, "v1/deliveries", "deliveries",
    () => [state.held, HELD_QUERY],
    (longer) => { state.held = longer; paint(); });
  const paint = () => {
    replace(status, state.done || "");
    if (!state.held) return;
    if (!state.held.deliveries.length) {
      replace(holder, h("p", {}, t("Er worden geen leveringen aangehouden.", "No deliveries are held.")));
      return;
    }
    replace(
      holder,
      scrollBox(table(
          t("Aangehouden volledige leveringen", "Held full deliveries"),
          deliveryHeaders(true),
          deliveryRows(state.held.deliveries, true, (delivery) =>
            state.asking === delivery.delivery_id
              ? confirmBox(delivery)
              : h(
                  "div",
                  {},
                  h("p", {}, endingText(delivery)),
                  h("button", { type: "button", onclick: () => { state.asking = delivery.delivery_id; state.done = null; paint(); } }, t("Bevestigen…", "Confirm…")),
                ),
          ),
        )),
      state.held.next_cursor && h("div", { class: "controls" }, older),
    );
  };
  refresh.addEventListener("click", load);
  append(container, 
    h("h1", { "data-autofocus": true, tabindex: "-1" }, t("Aangehouden leveringen", "Held deliveries")),
    h(
      "p",
      {},
      t(
        "Een volledige levering die meer polissen zou beëindigen dan de drempel wordt aangehouden tot een beheerder bevestigt.",
        "A full delivery that would end more policies than the threshold is held until an administrator confirms it.",
      ),
    ),
    h("div", { class: "controls" }, refresh),
    problem,
    status,
    holder,
  );
  load();
}

function renderAudit(container) {
  const actor = h("input", { type: "text", name: "actor", autocomplete: "off", value: state.actor, maxlength: "128" });
  const day = h("input", { type: "date", name: "date", value: state.day });
  const button = h("button", { type: "submit" }, t("Tonen", "Show"));
  const problem = errorRegion();
  const status = statusRegion();
  const holder = h("div", {});
  // A busy day holds more entries than one answer: the next, older page on request.
  const older = olderPagesButton(t("Oudere regels laden", "Load older entries"), problem, "v1/audit", "entries",
    () => [state.audit, state.auditQuery],
    (longer) => { state.audit = longer; paint(); });
  const paint = () => {
    if (!state.audit) return;
    const entries = state.audit.entries;
    const more = state.audit.next_cursor ? t(" Er zijn oudere regels.", " There are older entries.") : "";
    replace(status, t(`${entries.length} regels.`, `${entries.length} entries.`) + more);
    replace(
      holder,
      scrollBox(table(
        t("Auditlogboek", "Audit log"),
        [t("Tijd (UTC)", "Time (UTC)"), t("Wie", "Who"), t("Rol", "Role"), t("Partner", "Partner"), t("Actie", "Route"), t("Vraag (persoonsgegevens gehasht)", "Query (personal data hashed)"), t("Resultaten", "Results")],
        entries.map((entry) => [
          date(entry.at, { utc: true }), // the audit's days are UTC days
          entry.actor,
          word("role", entry.role),
          entry.partner_id || "",
          entry.route,
          Object.entries(entry.query).map(([key, value]) => `${key}=${value}`).join(" "),
          number(entry.result_count),
        ]),
      )),
      state.audit.next_cursor && h("div", { class: "controls" }, older),
    );
  };
  const form = h(
    "form",
    {
      class: "controls",
      onsubmit: (event) => {
        event.preventDefault();
        state.actor = actor.value.trim();
        state.day = day.value;
        busy(button, problem, async () => {
          state.auditQuery = { actor: state.actor, date: state.day };
          state.audit = await get("v1/audit", state.auditQuery);
          paint();
        });
      },
    },
    field(t("Wie (leeg: iedereen)", "Who (empty: everyone)"), actor),
    field(t("Dag (leeg: vandaag)", "Day (empty: today)"), day),
    button,
  );
  append(container, h("h1", { "data-autofocus": true, tabindex: "-1" }, t("Auditlogboek", "Audit log")), form, problem, status, holder);
  paint();
}

export const heldScreen = {
  title: () => t("Aangehouden leveringen", "Held deliveries"),
  render(container, context) {
    renderHeld(container, context.rerender);
  },
};

export const auditScreen = {
  title: () => t("Auditlogboek", "Audit log"),
  render(container) {
    renderAudit(container);
  },
};

export function reset() {
  Object.assign(state, { held: null, asking: null, done: null, audit: null, auditQuery: null, actor: "", day: "" });
}
