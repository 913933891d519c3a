// The inventory page: the deployment list (list.js) and one deployment's page (detail.js), routed in
// the URL fragment (#/?status=active, #/deployments/<id>) so that the page's addresses never clash with
// the JSON API. It polls while the tab is visible, so new events show up without a reload.
import { forgetShown, setToken, token } from "./api.js";
import { refreshDetail } from "./detail.js";
import { $, el } from "./dom.js";
import { lastListHash, setUpList, showList, refreshList } from "./list.js";

const POLL_MS = 2000;
const state = { view: null, deploymentId: null, routed: null, inFlight: false, again: false };

function route() {
  const hash = location.hash || "#/";
  if (hash === state.routed) return; // hashchange and popstate both report one history step
  state.routed = hash;
  forgetShown();
  const match = hash.match(/^#\/deployments\/([^?]+)$/);
  if (match) {
    state.view = "detail";
    state.deploymentId = decodeURIComponent(match[1]);
    $("detail-title").textContent = state.deploymentId;
    $("detail-body").replaceChildren(el("p", { class: "muted", text: "Loading…" }));
  } else {
    state.view = "list";
    showList(hash);
  }
  $("list-view").hidden = state.view !== "list";
  $("detail-view").hidden = state.view !== "detail";
  refresh();
}

function showError(error) {
  const box = $("error");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  let message = `The API answered ${error.status}: ${error.message}`;
  if (error.status === 401) message = "The API refused the token (401). Set a valid API token at the top of the page.";
  else if (error.status === 0) message = "Cannot reach the inventory service; retrying.";
  else if (!error.status) message = `The page failed: ${error.message}`;
  if (box.textContent !== message) box.textContent = message; // unchanged text is not announced again
  box.hidden = false;
}

// One refresh at a time; one asked for meanwhile runs right after, with the state as it is then.
async function refresh() {
  if (state.inFlight) {
    state.again = true;
    return;
  }
  state.inFlight = true;
  const view = state.view;
  const id = state.deploymentId;
  try {
    if (view === "list") await refreshList(() => state.view === "list");
    else await refreshDetail(id, () => state.view === "detail" && state.deploymentId === id);
    showError(null);
    $("live").textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    showError(error);
    if (view === "detail" && error.status === 404 && state.deploymentId === id) {
      $("detail-body").replaceChildren(el("p", { text: `Deployment ${id} was not found, or this token may not see it.` }));
    }
    $("live").textContent = "Not updated: see the message below";
  } finally {
    state.inFlight = false;
  }
  if (state.again) {
    state.again = false;
    await refresh();
  }
}

// The next poll is due POLL_MS after the last answer, or later when answers are slow (a large fleet on
// FerretDB), so that an open tab never keeps the service busy; a hidden tab does not poll at all.
let pollTimer = null;
async function poll() {
  clearTimeout(pollTimer);
  if (document.visibilityState !== "visible") return;
  const began = performance.now();
  await refresh();
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, Math.max(POLL_MS, 2 * (performance.now() - began)));
}

function start() {
  const input = $("token");
  input.value = token();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    forgetShown();
    refresh();
  });
  setUpList((hash) => {
    state.routed = hash;
    refresh();
  });
  $("skip").addEventListener("click", (event) => {
    event.preventDefault(); // the fragment is the router's
    $("main").focus();
  });
  $("back").addEventListener("click", (event) => {
    event.preventDefault();
    location.hash = lastListHash();
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("popstate", route);
  document.addEventListener("visibilitychange", poll);
  route();
  pollTimer = setTimeout(poll, POLL_MS);
}

start();
