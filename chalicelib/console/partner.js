// Deliveries and their reports: a partner sees its own, an administrator every partner's.
import { get } from "./api.js";
import { session } from "./auth.js";
import { append, facts, field, h, replace, scrollBox, table } from "./dom.js";
import { date, lang, number, t, word } from "./i18n.js";
import { fieldTable } from "./quality.js";
import { busy, errorRegion, olderPagesButton, showError, showProblem, statusRegion } from "./ui.js";

const state = { partnerFilter: "", list: null, listQuery: null, report: null };
let rerender = () => {};

export function fileName(objectKey) {
  return String(objectKey || "").split("/").pop();
}

export function statusText(status) {
  // Never colour alone: the state is a word, and the held state carries a mark as well.
  return status === "held_for_review" ? `⚠ ${word("delivery_status", status)}` : word("delivery_status", status);
}

async function openReport(deliveryId, region) {
  const report = await get(`v1/deliveries/${encodeURIComponent(deliveryId)}`).catch((error) => {
    if (error.kind !== "signin") region(error);
    return null;
  });
  if (!report) return;
  state.report = report;
  rerender();
}

export function deliveryRows(deliveries, withPartner, action) {
  return deliveries.map((delivery) => [
    date(delivery.received_at),
    ...(withPartner ? [delivery.partner_id] : []),
    fileName(delivery.object_key),
    word("kind", delivery.kind),
    h("span", { class: `state state-${delivery.status}` }, statusText(delivery.status)),
    `${number(delivery.rows_accepted)} / ${number(delivery.rows_total)}`,
    number(delivery.rows_rejected),
    `${number(delivery.policies_written)} / ${number(delivery.policies_ended)}`,
    action(delivery),
  ]);
}

export function deliveryHeaders(withPartner) {
  return [
    t("Ontvangen", "Received"),
    ...(withPartner ? [t("Partner", "Partner")] : []),
    t("Bestand", "File"),
    t("Soort", "Kind"),
    t("Status", "Status"),
    t("Regels geaccepteerd / totaal", "Rows accepted / total"),
    t("Regels afgewezen", "Rows rejected"),
    t("Polissen geschreven / beëindigd", "Policies written / ended"),
    t("Actie", "Action"),
  ];
}

function renderList(container) {
  const isAdmin = session.role === "admin";
  const problem = errorRegion();
  const status = statusRegion();
  const holder = h("div", {});
  // A partner that delivers daily has more deliveries than one answer holds: the next, older
  // page on request.
  const older = olderPagesButton(t("Oudere leveringen laden", "Load older deliveries"), problem, "v1/deliveries", "deliveries",
    () => [state.list, state.listQuery],
    (longer) => { state.list = longer; paint(); });
  const paint = () => {
    if (!state.list) return;
    const deliveries = state.list.deliveries;
    const whose = isAdmin ? state.listQuery.partner_id : session.partnerId;
    const partners = (session.config && session.config.partners) || [];
    if (whose && !deliveries.length && partners.length && !partners.includes(whose)) {
      // The API lists no deliveries for an id it does not know, as for a partner that sent none.
      showProblem(
        problem,
        t(`${whose} is geen partner van deze omgeving (wel: ${partners.join(", ")}).`,
          `${whose} is not a partner of this stage (these are: ${partners.join(", ")}).`),
      );
    }
    const more = state.list.next_cursor ? t(" Er zijn oudere leveringen.", " There are older deliveries.") : "";
    replace(status, t(`${deliveries.length} leveringen, nieuwste eerst.`, `${deliveries.length} deliveries, newest first.`) + more);
    replace(
      holder,
      scrollBox(table(
        whose ? t(`Leveringen van ${whose}`, `Deliveries of ${whose}`) : t("Leveringen van alle partners", "Deliveries of every partner"),
        deliveryHeaders(isAdmin),
        deliveryRows(deliveries, isAdmin, (delivery) =>
          h(
            "button",
            { type: "button", onclick: () => openReport(delivery.delivery_id, (error) => showError(problem, error)) },
            t("Rapport", "Report"),
            h("span", { class: "visually-hidden" }, ` ${fileName(delivery.object_key)} ${date(delivery.received_at)}`),
          ),
        ),
      )),
      state.list.next_cursor && h("div", { class: "controls" }, older),
    );
  };
  const refresh = h("button", { type: "button" }, t("Vernieuwen", "Refresh"));
  const load = () =>
    busy(refresh, problem, async () => {
      state.listQuery = { partner_id: isAdmin ? state.partnerFilter : "" };
      state.list = await get("v1/deliveries", state.listQuery);
      paint();
    });
  refresh.addEventListener("click", load);
  const controls = [refresh];
  if (isAdmin) {
    const partners = (session.config && session.config.partners) || [];
    const filter = h("input", { type: "text", name: "partner_id", list: "partner-ids", value: state.partnerFilter, autocomplete: "off" });
    filter.addEventListener("change", () => {
      state.partnerFilter = filter.value.trim();
      load();
    });
    controls.unshift(
      field(t("Partner (leeg: alle)", "Partner (empty: all)"), filter),
      h("datalist", { id: "partner-ids" }, partners.map((value) => h("option", { value }))),
    );
  }
  append(container, 
    h("h1", { "data-autofocus": true, tabindex: "-1" }, t("Leveringen", "Deliveries")),
    h("div", { class: "controls" }, controls),
    problem,
    status,
    holder,
  );
  if (state.list) paint();
  else load();
}

/** The rejected rows as the CSV file the partner opens beside its export. The page asks the API
 *  for a short-lived link to the file and opens it: the bucket answers it as a download (the page
 *  stays; a file of any size, also one over the API's 5 MB). The link names only the partner and
 *  the delivery; no token goes with it and no referrer. */
function rejectedRowsButton(report, problem) {
  const button = h("button", { type: "button" }, t("Afgewezen regels downloaden (CSV)", "Download rejected rows (CSV)"));
  button.addEventListener("click", () =>
    busy(button, problem, async () => {
      const link = await get(`v1/deliveries/${encodeURIComponent(report.delivery_id)}/rejected-rows/link`);
      const anchor = h("a", { href: link.url, download: link.file_name, referrerpolicy: "no-referrer", hidden: true });
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
    }),
  );
  return button;
}

function renderReport(container) {
  const report = state.report;
  const message = (error) => (lang() === "en" ? error.message_en : error.message);
  const problem = errorRegion();
  append(container, 
    h("button", { type: "button", class: "link back", onclick: () => { state.report = null; rerender(); } }, t("Terug naar de leveringen", "Back to the deliveries"), " (Esc)"),
    h("h1", { "data-autofocus": true, tabindex: "-1" }, t("Leveringsrapport", "Delivery report"), ` ${fileName(report.object_key)}`),
    facts([
      [t("Partner", "Partner"), report.partner_id],
      [t("Soort", "Kind"), word("kind", report.kind)],
      [t("Status", "Status"), statusText(report.status)],
      [t("Ontvangen", "Received"), date(report.received_at)],
      [t("Verwerkt", "Finished"), date(report.finished_at)],
      [t("Regels", "Rows"), t(
        `${number(report.rows_total)} totaal, ${number(report.rows_accepted)} geaccepteerd, ${number(report.rows_rejected)} afgewezen`,
        `${number(report.rows_total)} in all, ${number(report.rows_accepted)} accepted, ${number(report.rows_rejected)} rejected`)],
      [t("Polissen", "Policies"), t(
        `${number(report.policies_written)} geschreven, ${number(report.policies_ended)} beëindigd, ${number(report.policies_pending_removal)} wachten op bevestiging`,
        `${number(report.policies_written)} written, ${number(report.policies_ended)} ended, ${number(report.policies_pending_removal)} awaiting confirmation`)],
      [t("Bevestigd door", "Confirmed by"), report.confirmed_by ? `${report.confirmed_by} (${date(report.confirmed_at)})` : ""],
    ]),
    report.warnings.length
      ? h("section", {}, h("h2", {}, t("Waarschuwingen", "Warnings")), h("ul", {}, report.warnings.map((w) => h("li", {}, w))))
      : null,
    Object.keys(report.error_counts).length
      ? scrollBox(table(
          t("Fouten per soort", "Errors by kind"),
          [t("Code", "Code"), t("Aantal", "Count")],
          Object.entries(report.error_counts).map(([code, count]) => [code, number(count)]),
        ))
      : null,
    report.errors.length
      ? scrollBox(table(
          t("Fouten per regel", "Errors per line"),
          [t("Regel", "Line"), t("Kolom", "Column"), t("Code", "Code"), t("Melding", "Message")],
          report.errors.map((error) => [String(error.line), error.column || "", error.code, message(error)]),
        ))
      : h("p", {}, t("Geen fouten in deze levering.", "No errors in this delivery.")),
    report.errors_truncated
      ? h("p", { class: "notice" }, t("Alleen de eerste fouten staan hier.", "Only the first errors are listed here."))
      : null,
    report.errors.length ? h("div", { class: "controls" }, rejectedRowsButton(report, problem)) : null,
    problem,
    report.quality && report.quality.fields.length
      ? fieldTable(t("Kwaliteit van deze levering per veld", "Quality of this delivery per field"), report.quality.fields)
      : null,
  );
}

export const deliveriesScreen = {
  title: () => t("Leveringen", "Deliveries"),
  escape() {
    if (!state.report) return false;
    state.report = null;
    rerender();
    return true;
  },
  render(container, context) {
    rerender = context.rerender;
    if (state.report) renderReport(container);
    else renderList(container);
  },
};

export function reset() {
  Object.assign(state, { partnerFilter: "", list: null, listQuery: null, report: null });
}
