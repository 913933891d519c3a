// The deployment list: summary tiles, search, filters, sort (select or column headers) and paging.
// The filters live in the URL fragment (#/?status=inactive&sort=-created), so a view can be linked to
// and the back button returns to it.
import { api, changed, CONFIG } from "./api.js";
import { $, badge, dash, el, health, number, slug, titleCase, when } from "./dom.js";

const FILTER_NAMES = ["search", "status", "importance", ...CONFIG.health_dimensions.map((d) => `${d}_health`)];
const DEFAULT_SORT = "label";
const DEFAULT_LIMIT = "50";
const LAST_LIST = "lifecycle.inventory.list";

let params = new URLSearchParams();
let onChange = () => {};

export function listHash() {
  const text = params.toString();
  return text ? `#/?${text}` : "#/";
}

export function lastListHash() {
  return sessionStorage.getItem(LAST_LIST) || "#/";
}

/** Show the list for a fragment such as `#/?status=active`. */
export function showList(hash) {
  params = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
  sessionStorage.setItem(LAST_LIST, hash);
  fillForm();
}

function setParams(next, { push = false } = {}) {
  for (const [key, value] of [...next.entries()]) if (!value) next.delete(key);
  params = next;
  const hash = listHash();
  if (push) history.pushState(null, "", hash);
  else history.replaceState(null, "", hash);
  sessionStorage.setItem(LAST_LIST, hash);
  fillForm();
  onChange(hash);
}

function withParam(name, value) {
  const next = new URLSearchParams(params);
  next.set(name, value);
  next.delete("offset");
  return next;
}

/** Build the form's choices from the page's config and wire its controls; `changedTo(hash)` refreshes. */
export function setUpList(changedTo) {
  onChange = changedTo;
  const options = (select, values) => values.forEach((value) => select.append(el("option", { value, text: value })));
  options($("f-status"), CONFIG.statuses);
  options($("f-importance"), CONFIG.importances);
  for (const dimension of CONFIG.health_dimensions) {
    const id = `f-${dimension}_health`;
    const select = el("select", { id, name: `${dimension}_health` }, el("option", { value: "", text: "Any" }));
    options(select, CONFIG.health_statuses);
    $("health-filters").append(el("div", { class: "field" }, el("label", { for: id, text: `${titleCase(dimension)} health` }), select));
  }
  for (const key of CONFIG.sort_keys) {
    $("f-sort").append(el("option", { value: key, text: `${titleCase(key)} ↑` }));
    $("f-sort").append(el("option", { value: `-${key}`, text: `${titleCase(key)} ↓` }));
  }
  const form = $("filters");
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", (event) => {
    if (event.target.name !== "search") applyForm();
  });
  let typing = null;
  $("f-search").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(applyForm, 300);
  });
  $("clear-filters").addEventListener("click", () => setParams(new URLSearchParams(), { push: true }));
  $("prev").addEventListener("click", () => turnPage(-1));
  $("next").addEventListener("click", () => turnPage(1));
  for (const header of document.querySelectorAll("#deployments th[data-sort]")) {
    const key = header.dataset.sort;
    header.replaceChildren(el("button", { type: "button", class: "sort", onclick: () => sortBy(key) }, header.textContent));
  }
}

function applyForm() {
  const next = new URLSearchParams();
  for (const name of [...FILTER_NAMES, "sort", "limit"]) {
    const value = $("filters").elements[name].value.trim();
    if (value && !(name === "sort" && value === DEFAULT_SORT) && !(name === "limit" && value === DEFAULT_LIMIT)) {
      next.set(name, value);
    }
  }
  setParams(next);
}

function fillForm() {
  const form = $("filters").elements;
  for (const name of FILTER_NAMES) {
    if (form[name] !== document.activeElement) form[name].value = params.get(name) || "";
  }
  form.sort.value = params.get("sort") || DEFAULT_SORT;
  form.limit.value = params.get("limit") || DEFAULT_LIMIT;
  for (const header of document.querySelectorAll("#deployments th[data-sort]")) {
    const key = header.dataset.sort;
    const direction = form.sort.value === key ? "ascending" : form.sort.value === `-${key}` ? "descending" : null;
    if (direction) header.setAttribute("aria-sort", direction);
    else header.removeAttribute("aria-sort");
  }
}

function sortBy(key) {
  setParams(withParam("sort", (params.get("sort") || DEFAULT_SORT) === key ? `-${key}` : key));
}

function turnPage(step) {
  const next = new URLSearchParams(params);
  const limit = Number(next.get("limit") || DEFAULT_LIMIT);
  const offset = Math.max(0, Number(next.get("offset") || 0) + step * limit);
  if (offset) next.set("offset", String(offset));
  else next.delete("offset");
  setParams(next, { push: true });
}

const filterOn = (name, value) => setParams(withParam(name, value), { push: true });

/** Fetch the page and the summary; render them if the list is still showing these filters. */
export async function refreshList(stillShown) {
  const asked = params.toString();
  const query = new URLSearchParams(params);
  if (!query.has("limit")) query.set("limit", DEFAULT_LIMIT);
  const [page, summary] = await Promise.all([api(`deployments?${query}`), api("deployments/summary")]);
  if (!stillShown() || params.toString() !== asked) return; // the filters changed meanwhile
  if (changed("summary", summary)) renderTiles(summary);
  if (changed("page", page)) renderPage(page);
}

function tile(title, main, ...rest) {
  return el("section", { class: "tile", "aria-label": title }, el("h2", { text: title }), el("p", { class: "tile-main", text: main }), ...rest);
}

const filterButton = (name, value, ...label) => el("button", { type: "button", class: "link", onclick: () => filterOn(name, value) }, ...label);

function renderTiles(summary) {
  const byStatus = Object.entries(summary.by_status || {})
    .filter(([, count]) => count > 0)
    .map(([status, count]) => el("li", {}, filterButton("status", status, badge("status", status), ` ${number(count)}`)));
  const tiles = [
    tile("Deployments", number(summary.deployments), el("ul", { class: "tile-list" }, byStatus)),
    tile("Predictions", number(summary.predictions), el("p", { class: "muted", text: "recorded in total" })),
  ];
  for (const dimension of CONFIG.health_dimensions) {
    const counts = summary[dimension] || {};
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    const bar = el("div", { class: "bar", "aria-hidden": "true" });
    const items = [];
    for (const [status, count] of Object.entries(counts)) {
      if (!count) continue;
      const segment = el("span", { class: `segment health-${slug(status)}` });
      segment.style.flexGrow = String(count);
      bar.append(segment);
      items.push(el("li", {}, filterButton(`${dimension}_health`, status, health(status), ` ${number(count)}`)));
    }
    const passing = `${number(counts.passing || 0)} / ${number(total)} passing`;
    tiles.push(tile(`${titleCase(dimension)} health`, passing, bar, el("ul", { class: "tile-list" }, items)));
  }
  $("tiles").replaceChildren(...tiles);
}

function row(d) {
  return el(
    "tr",
    { "data-id": d.id },
    el("th", { scope: "row" }, el("a", { href: `#/deployments/${encodeURIComponent(d.id)}`, text: d.label || d.id }), el("div", { class: "sub", text: d.id })),
    el("td", {}, badge("status", d.status)),
    el("td", {}, badge("importance", d.importance)),
    ...CONFIG.health_dimensions.map((dimension) => el("td", { "data-health": dimension }, health(d.health[dimension].status))),
    el("td", { class: "num", text: number(d.predictions.total) }),
    el("td", {}, when(d.predictions.last_at)),
    el("td", {}, d.model_package ? d.model_package.name : dash()),
    el("td", {}, when(d.created_at)),
  );
}

function renderPage(page) {
  const rows = page.data.map(row);
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "11", class: "empty", text: "No deployment matches these filters." })));
  // A refresh must not take the keyboard focus away from the link it was on.
  const focused = document.activeElement && document.activeElement.closest("#deployments tr[data-id]");
  $("deployments").tBodies[0].replaceChildren(...rows);
  const again = focused && rows.find((candidate) => candidate.dataset.id === focused.dataset.id);
  if (again) again.querySelector("a").focus();
  const last = page.offset + page.data.length;
  $("count").textContent = `${number(page.count)} deployment${page.count === 1 ? "" : "s"}`;
  $("page-info").textContent = page.count ? `${number(page.offset + 1)}–${number(last)} of ${number(page.count)}` : "";
  $("prev").disabled = page.offset === 0;
  $("next").disabled = page.next_offset === null;
}
