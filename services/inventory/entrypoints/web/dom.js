// DOM helpers for the inventory page. Text only: nothing from the API is ever parsed as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const slug = (value) => String(value).toLowerCase().replace(/[^a-z0-9]+/g, "-");
export const titleCase = (text) => text.charAt(0).toUpperCase() + text.slice(1).replace(/_/g, " ");
export const dash = () => el("span", { class: "muted", text: "—" });
export const number = (value) => (value === null || value === undefined ? "—" : Number(value).toLocaleString());

// Status and importance as badges; health as a coloured dot and its word (never colour alone).
export function badge(kind, value) {
  if (!value) return dash();
  return el("span", { class: `badge ${kind}-${slug(value)}`, text: value });
}

export function health(status) {
  const value = status || "unknown";
  return el("span", { class: `health health-${slug(value)}` }, el("span", { class: "dot", "aria-hidden": "true" }), value);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso) {
  if (!iso) return dash();
  const moment = new Date(iso);
  return el("time", { datetime: iso, title: iso, text: Number.isNaN(moment.getTime()) ? iso : dateFormat.format(moment) });
}
