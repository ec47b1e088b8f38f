// Calls to the /v1 API. Every call carries the token kept for this tab
// (sessionStorage); a 401 asks for it with the token form, once for all
// the calls that were refused together, and retries.

const TOKEN_KEY = "customeriq.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let asking = null;  // the open token form's promise
let memoryToken = null;  // where sessionStorage is refused

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function storeToken(token) {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    memoryToken = token;
  }
}

const currentToken = () => storedToken() ?? memoryToken;

function askForToken(refusedToken) {
  if (currentToken() !== refusedToken) return Promise.resolve();  // another call already asked
  if (asking) return asking;
  const dialog = document.getElementById("token-dialog");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  document.getElementById("token-message").textContent = refusedToken
    ? "The server refused that token. Enter the token the server was started with (CUSTOMERIQ_HTTP_TOKEN)."
    : "This server needs an access token (CUSTOMERIQ_HTTP_TOKEN) for customer data.";
  input.value = "";
  asking = new Promise((resolve) => {
    const submitted = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      storeToken(token);
      form.removeEventListener("submit", submitted);
      dialog.removeEventListener("cancel", refuseCancel);
      dialog.close();
      asking = null;
      resolve();
    };
    // Nothing works without it: Escape does not dismiss the form.
    const refuseCancel = (event) => event.preventDefault();
    form.addEventListener("submit", submitted);
    dialog.addEventListener("cancel", refuseCancel);
  });
  if (!dialog.open) dialog.showModal();
  input.focus();
  return asking;
}

function abortError() {
  return new DOMException("The request was cancelled", "AbortError");
}

// fetch(path) with the token; resolves with the Response of any status but 401.
export async function apiFetch(path, options = {}) {
  for (;;) {
    const token = currentToken();
    const headers = new Headers(options.headers ?? {});
    if (token) headers.set("Authorization", `Bearer ${token}`);
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401) return response;
    await response.body?.cancel();
    await askForToken(token);
    if (options.signal?.aborted) throw abortError();
  }
}

// The JSON of a successful answer; an ApiError with the server's message otherwise.
export async function apiJson(path, options = {}) {
  const response = await apiFetch(path, options);
  return readAnswer(response, (r) => r.json());
}

export async function apiText(path, options = {}) {
  const response = await apiFetch(path, options);
  return readAnswer(response, (r) => r.text());
}

async function readAnswer(response, read) {
  if (response.ok) return read(response);
  let code = "unavailable";
  let message = `the server answered ${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body?.error) ({ code, message } = body.error);
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(response.status, code, message);
}

// A sentence for an error of any kind, for the page.
export function describeError(error) {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "Cannot reach the CustomerIQ server. Is it running?";
  return error?.message ?? String(error);
}

export const isAbort = (error) => error?.name === "AbortError";
