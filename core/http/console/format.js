// Building elements and formatting values. Text from data only ever goes
// in through textContent: events are untrusted.

const DAY = 86400;

// el("li", {class: "row", data: {id}}, child, "text", ...): children are
// elements or strings (inserted as text); null and false are skipped.
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = String(value);
    else if (name === "data") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

// Unix seconds (or milliseconds, as the events may carry) to a Date.
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return new Date(value > 1e11 ? value : value * 1000);
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}

const dateFormat = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric" });
const dateTimeFormat = new Intl.DateTimeFormat("en-US", {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});
const currencyFormat = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function formatDate(value) {
  const date = toDate(value);
  return date ? dateFormat.format(date) : "—";
}

// A <time> element showing the date (and time), machine-readable.
export function timeElement(value, withTime = false) {
  const date = toDate(value);
  if (!date) return el("span", { text: "—" });
  return el("time", { datetime: date.toISOString(), text: (withTime ? dateTimeFormat : dateFormat).format(date) });
}

export function formatMoney(value) {
  const number = typeof value === "number" ? value : Number(value);
  return value === null || value === undefined || Number.isNaN(number) ? "—" : currencyFormat.format(number);
}

// "3 days", "5 hours", "just now": how long ago value was.
export function formatAge(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return "unknown age";
  const seconds = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (seconds < 60) return "just now";
  const units = [["year", 365 * DAY], ["month", 30 * DAY], ["day", DAY], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (seconds >= size) {
      const count = Math.floor(seconds / size);
      return `${count} ${unit}${count === 1 ? "" : "s"}`;
    }
  }
  return "just now";
}

// The state of a warranty: {state: "active" | "expiring" | "expired" | "none", text}.
export function warrantyState(expires, now = Date.now()) {
  const date = toDate(expires);
  if (!date) return { state: "none", text: "No warranty on record" };
  const days = Math.ceil((date.getTime() - now) / (DAY * 1000));
  if (days <= 0) return { state: "expired", text: `Warranty expired ${formatDate(expires)}` };
  if (days <= 30) return { state: "expiring", text: `Warranty expires in ${days} day${days === 1 ? "" : "s"}` };
  return { state: "active", text: `Warranty active until ${formatDate(expires)}` };
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

// "support_ticket" → "Support ticket".
export function humanize(text) {
  const spaced = String(text ?? "").replace(/[_-]+/g, " ").trim();
  return spaced ? spaced[0].toUpperCase() + spaced.slice(1) : "";
}
