// One deployment's page: its details, health by dimension, model history and audit trail (the
// inventory's `/audit`, shown when it answers; "not available" otherwise).
import { api, changed } from "./api.js";
import * as h from "./dom.js";

function table(caption, headings, rows, emptyText) {
  if (!rows.length) return h.el("p", { class: "muted", text: emptyText });
  return h.el(
    "div",
    { class: "table-wrap" },
    h.el(
      "table",
      { class: "data" },
      h.el("caption", { class: "visually-hidden", text: caption }),
      h.el("thead", {}, h.el("tr", {}, headings.map((text) => h.el("th", { scope: "col", text })))),
      h.el("tbody", {}, rows.map((cells) => h.el("tr", {}, cells.map((cell) => h.el("td", {}, cell ?? h.dash()))))),
    ),
  );
}

function facts(pairs) {
  return h.el(
    "dl",
    { class: "facts" },
    pairs.map(([term, value]) => h.el("div", {}, h.el("dt", { text: term }), h.el("dd", {}, value ?? h.dash()))),
  );
}

function pkg(ref) {
  if (!ref) return h.dash();
  return h.el("span", {}, ref.name, " ", h.el("code", { text: ref.id }), h.el("div", { class: "sub", text: `${ref.target_name} · ${ref.target_type}` }));
}

function section(title, ...content) {
  const id = `section-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h.el("section", { class: "panel", "aria-labelledby": id }, h.el("h2", { id, text: title }), ...content);
}

function healthCards(d) {
  return h.el(
    "div",
    { class: "health-cards" },
    Object.entries(d.health).map(([dimension, report]) =>
      h.el(
        "div",
        { class: `health-card health-border-${report.status}`, "data-dimension": dimension },
        h.el("h3", { text: h.titleCase(dimension) }),
        h.health(report.status),
        report.message ? h.el("p", { text: report.message }) : null,
        report.reported_at ? h.el("p", { class: "sub" }, "reported ", h.when(report.reported_at)) : null,
      ),
    ),
  );
}

function details(d) {
  const env = d.prediction_environment;
  const run = d.latest_retraining_run;
  return facts([
    ["Deployment ID", h.el("code", { text: d.id })],
    ["Model package", pkg(d.model_package)],
    ["Model deployed", d.model_deployed_at ? h.el("span", {}, h.when(d.model_deployed_at), d.model_age_days !== null ? ` (${d.model_age_days.toFixed(1)} days ago)` : "") : null],
    ["Prediction environment", env ? `${env.name} (${env.platform})` : null],
    ["Owners", d.owners.length ? d.owners.join(", ") : null],
    ["Access", d.access.length ? d.access.map((a) => `${a.principal} (${a.principal_type}): ${a.role}`).join("; ") : null],
    ["Tags", d.tags.length ? d.tags.map((t) => (t.value ? `${t.name}:${t.value}` : t.name)).join(", ") : null],
    ["Created", d.created_at ? h.el("span", {}, h.when(d.created_at), d.created_by ? ` by ${d.created_by}` : "") : null],
    ["Predictions", h.el("span", {}, h.number(d.predictions.total), d.predictions.last_at ? h.el("span", {}, ", last ", h.when(d.predictions.last_at)) : "")],
    ["Last 7 days", d.predictions_last_7_days.map((day) => `${day.date.slice(5)}: ${h.number(day.count)}`).join(" · ")],
    ["Challengers", d.challengers.length ? d.challengers.map((c) => `${c.id} (${c.model_package.name})`).join(", ") : null],
    ["Latest retraining run", run ? `${run.run_id}: ${run.status}${run.step ? ` at ${run.step}` : ""}${run.error ? ` (${run.error})` : ""}` : null],
  ]);
}

function modelHistory(history) {
  const newestFirst = [...history].reverse();
  return table(
    "Model history, newest first",
    ["Action", "Model package", "Reason", "Actor", "Validation", "Started", "Ended"],
    newestFirst.map((e) => [e.action, pkg(e.model_package), e.reason, e.actor, e.validation_status, h.when(e.started_at), e.ended_at ? h.when(e.ended_at) : h.el("span", { class: "badge status-active", text: "current" })]),
    "No model history yet.",
  );
}

function auditTrail(audit) {
  const entries = Array.isArray(audit) ? audit : audit && Array.isArray(audit.entries) ? audit.entries : null;
  if (!entries) return h.el("p", { class: "muted", id: "audit-unavailable", text: "Audit trail not available." });
  return table(
    "Audit trail, oldest first",
    ["Time", "Event", "Actor", "Summary"],
    entries.map((e) => [h.when(e.time), h.el("span", { title: e.event_id || "" }, h.el("code", { text: e.type })), e.actor, e.summary]),
    "No audit entries yet.",
  );
}

function render(d, history, audit) {
  document.getElementById("detail-title").textContent = d.label || d.id;
  document.getElementById("detail-body").replaceChildren(
    h.el("p", { class: "badges" }, h.badge("status", d.status), " ", h.badge("importance", d.importance)),
    d.description ? h.el("p", { class: "description", text: d.description }) : null,
    section("Health", healthCards(d)),
    section("Details", details(d)),
    h.el("section", { class: "panel", id: "model-history", "aria-labelledby": "model-history-title" }, h.el("h2", { id: "model-history-title", text: "Model history" }), modelHistory(history)),
    h.el("section", { class: "panel", id: "audit", "aria-labelledby": "audit-title" }, h.el("h2", { id: "audit-title", text: "Audit trail" }), auditTrail(audit)),
  );
}

/** Fetch the deployment, its model history and its audit trail; render them if it is still shown. */
export async function refreshDetail(deploymentId, stillShown) {
  const id = encodeURIComponent(deploymentId);
  const [deployment, history, audit] = await Promise.all([
    api(`deployments/${id}`),
    api(`deployments/${id}/model-history`),
    api(`deployments/${id}/audit`).catch(() => null),
  ]);
  if (stillShown() && changed("detail", [deployment, history, audit])) render(deployment, history, audit);
}
