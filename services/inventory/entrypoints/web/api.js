// The inventory's JSON API as the page calls it: relative paths (so the page works behind a path
// prefix) and the bearer token kept in localStorage, or the dev token the service offers by default.

export const CONFIG = JSON.parse(document.getElementById("config").textContent);
const TOKEN_KEY = "lifecycle.inventory.token";

export function token() {
  const saved = localStorage.getItem(TOKEN_KEY);
  return saved !== null ? saved : CONFIG.default_token;
}

export function setToken(value) {
  localStorage.setItem(TOKEN_KEY, value);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export async function api(path) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  let response;
  try {
    response = await fetch(path, { headers, cache: "no-store" });
  } catch {
    throw new ApiError(0, "cannot reach the inventory service");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
    throw new ApiError(response.status, detail);
  }
  return body;
}

// Re-render only what changed, so that focus, selection and screen readers are not disturbed. The
// model's age is left out of the comparison: it grows with every answer.
const shown = new Map();

export function changed(key, data) {
  const text = JSON.stringify(data, (name, value) => (name === "model_age_days" ? undefined : value));
  if (shown.get(key) === text) return false;
  shown.set(key, text);
  return true;
}

export function forgetShown() {
  shown.clear();
}
