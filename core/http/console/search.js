// The search box: results as you type (debounced, stale requests
// cancelled) and on Enter, arrow keys to move, Enter or a click to choose.
import { apiJson, describeError, isAbort } from "./api.js";
import { clear, el } from "./format.js";

const DEBOUNCE_MS = 150;
const MATCHED = { id: "id", email: "email", phone: "phone", name: "name", activity: "history" };

export class SearchBox {
  constructor({ input, panel, list, status, onChoose }) {
    Object.assign(this, { input, panel, list, status, onChoose });
    this.timer = null;
    this.controller = null;
    this.results = [];
    this.resultsFor = null;  // the text the shown results answer
    this.active = -1;
    input.addEventListener("input", () => this.schedule());
    input.addEventListener("keydown", (event) => this.key(event));
    input.addEventListener("focus", () => this.results.length && this.input.value.trim() && this.show(true));
    input.addEventListener("blur", () => setTimeout(() => this.show(false), 150));
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.input.value.trim()) {
      this.controller?.abort();
      this.results = [];
      this.resultsFor = null;
      return this.show(false);
    }
    this.timer = setTimeout(() => this.search(), DEBOUNCE_MS);
  }

  async search() {
    clearTimeout(this.timer);
    const text = this.input.value.trim();
    if (!text) return;
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    this.status.textContent = "Searching…";
    this.show(true);
    try {
      const answer = await apiJson(`/v1/customers?q=${encodeURIComponent(text)}&limit=10`, { signal: controller.signal });
      if (controller.signal.aborted) return;
      this.render(text, answer.items ?? []);
    } catch (error) {
      if (isAbort(error)) return;
      this.results = [];
      this.resultsFor = null;
      clear(this.list);
      this.status.textContent = describeError(error);
    }
  }

  render(text, items) {
    this.results = items;
    this.resultsFor = text;
    this.active = items.length ? 0 : -1;
    clear(this.list);
    this.status.textContent = items.length ? "" : `No customer matches “${text}”.`;
    items.forEach((customer, index) => {
      const option = el("li", { id: `search-option-${index}`, role: "option", class: "option", data: { id: customer.id } },
        el("span", { class: "option-name", text: customer.name || customer.email || customer.id }),
        el("span", { class: "option-detail", text: [customer.email, customer.company, customer.id].filter(Boolean).join(" · ") }),
        customer.matched ? el("span", { class: "option-match", text: `matched ${MATCHED[customer.matched] ?? customer.matched}` }) : null);
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();  // keep the focus in the box until chosen
        this.choose(index);
      });
      this.list.append(option);
    });
    this.highlight();
    this.show(true);
  }

  highlight() {
    [...this.list.children].forEach((option, index) => option.setAttribute("aria-selected", String(index === this.active)));
    const current = this.list.children[this.active];
    if (current) {
      this.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  show(visible) {
    this.panel.hidden = !visible;
    this.input.setAttribute("aria-expanded", String(visible && this.results.length > 0));
  }

  async key(event) {
    const open = !this.panel.hidden && this.results.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) return this.results.length ? this.show(true) : this.search();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.results.length) % this.results.length;
      this.highlight();
    } else if (event.key === "Enter") {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      if (open && this.resultsFor === text && this.active >= 0) return this.choose(this.active);
      await this.search();
      if (this.results.length === 1) this.choose(0);
    } else if (event.key === "Escape") {
      if (!this.panel.hidden) {
        event.preventDefault();
        this.show(false);
      }
    }
  }

  choose(index) {
    const customer = this.results[index];
    if (!customer) return;
    this.show(false);
    this.input.blur();
    this.onChoose(customer.id);
  }
}
