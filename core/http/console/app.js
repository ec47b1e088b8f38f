// The support console: / finds a customer, /customers/{id} shows one and
// follows its changes live. History entries (pushState) make the back
// button work; the path is the state.
import { describeError } from "./api.js";
import { ChangeStream } from "./change_stream.js";
import { CustomerView } from "./customer_view.js";
import { SearchBox } from "./search.js";

const $ = (id) => document.getElementById(id);
const views = ["welcome-view", "problem-view", "customer-view"];

let stream = null;
let generation = 0;  // which navigation is current: older loads stand down

function show(view) {
  for (const id of views) $(id).hidden = id !== view;
}

function announce(text) {
  $("announcer").textContent = text;
}

function setLive(state, retryMs) {
  const live = $("live");
  live.dataset.state = state;
  $("live-text").textContent = {
    idle: "Not following",
    connecting: "Connecting…",
    live: "Live",
    disconnected: `Disconnected, retrying in ${Math.max(1, Math.round((retryMs ?? 0) / 1000))} s`,
  }[state];
}

function showProblem(heading, text, retry) {
  document.title = `${heading} · CustomerIQ`;
  $("problem-heading").textContent = heading;
  $("problem-text").textContent = text;
  const button = $("problem-retry");
  button.hidden = !retry;
  button.onclick = retry;
  show("problem-view");
}

const view = new CustomerView({ announce });

function customerIdOf(pathname) {
  const match = /^\/customers\/([^/]+)\/?$/.exec(pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

function stopFollowing() {
  stream?.stop();
  stream = null;
  setLive("idle");
}

async function route() {
  const current = ++generation;
  stopFollowing();
  view.close();
  const id = customerIdOf(location.pathname);
  if (id === null) {
    document.title = "CustomerIQ console";
    show("welcome-view");
    return;
  }
  await openCustomer(id, current);
}

async function openCustomer(id, current) {
  document.title = `${id} · CustomerIQ`;
  $("main").setAttribute("aria-busy", "true");
  // Follow first, then read: a change committed while the page loads is
  // then in the stream (applied once the page is there; rows are whole
  // and timeline events are known by id, so applying one twice is harmless).
  let ready = false;
  const pending = [];
  const following = new ChangeStream(id, {
    onChange: (kind, change) => (ready ? view.apply(kind, change.row) : pending.push([kind, change.row])),
    onReset: () => reload(id, current),
    onState: setLive,
    // Without a Last-Event-ID a reconnection may have missed changes.
    onReconnect: ({ resumed }) => resumed || reload(id, current),
  });
  stream = following;
  await Promise.race([following.start(), new Promise((resolve) => setTimeout(resolve, 3000))]);
  if (current !== generation) return;
  let found;
  try {
    found = await view.open(id);
  } catch (error) {
    if (current !== generation) return;
    $("main").removeAttribute("aria-busy");
    return showProblem("The customer could not be loaded", describeError(error), () => route());
  }
  if (current !== generation) return;
  $("main").removeAttribute("aria-busy");
  if (!found) {
    stopFollowing();
    return showProblem("Customer not found", `There is no customer with id “${id}”.`, null);
  }
  ready = true;
  for (const [kind, row] of pending.splice(0)) view.apply(kind, row);
  document.title = `${view.customerName} · CustomerIQ`;
  show("customer-view");
}

async function reload(id, current) {
  if (current !== generation) return;
  try {
    if (!(await view.open(id)) && current === generation) {
      stopFollowing();
      showProblem("Customer not found", `There is no customer with id “${id}”.`, null);
    }
  } catch (error) {
    if (current === generation) showProblem("The customer could not be loaded", describeError(error), () => route());
  }
}

export function navigate(pathname) {
  if (pathname !== location.pathname) history.pushState(null, "", pathname);
  route();
}

const search = new SearchBox({
  input: $("search"),
  panel: $("search-panel"),
  list: $("search-results"),
  status: $("search-status"),
  onChoose: (id) => {
    navigate(`/customers/${encodeURIComponent(id)}`);
    $("main").focus();
  },
});

$("home-link").addEventListener("click", (event) => {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate("/");
  search.focus();
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest?.("input, textarea, select, [contenteditable]") || $("token-dialog").open) return;
  event.preventDefault();
  search.focus();
});

window.addEventListener("popstate", () => route());
search.focus();
route();
