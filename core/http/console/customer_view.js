// The customer page: the header card, open work orders, purchases with
// their warranty, knowledge, the timeline (paged, filtered by type) and the
// assistant context; changes from the stream update it in place.
import { ApiError, apiJson, apiText, describeError, isAbort } from "./api.js";
import {
  append, clear, el, formatAge, formatMoney, humanize, plural, timeElement, toDate, warrantyState,
} from "./format.js";

const PAGE_SIZE = 20;
const CLOSED_STATUSES = new Set(["completed", "closed", "resolved", "done", "cancelled", "canceled"]);
const PRIORITY_RANK = { critical: 0, urgent: 0, high: 1, medium: 2, normal: 2, low: 3 };

const $ = (id) => document.getElementById(id);
const path = (id) => `/v1/customers/${encodeURIComponent(id)}`;

export function isOpenWorkOrder(order) {
  return !order.completed_date && !CLOSED_STATUSES.has(String(order.status ?? "").toLowerCase());
}

function byPriority(a, b) {
  const rank = (order) => PRIORITY_RANK[String(order.priority ?? "").toLowerCase()] ?? 4;
  return rank(a) - rank(b) || (toDate(a.created_date) ?? 0) - (toDate(b.created_date) ?? 0) || String(a.id).localeCompare(String(b.id));
}

function byImportance(a, b) {
  return (b.importance ?? 0) - (a.importance ?? 0) || (b.created_at ?? 0) - (a.created_at ?? 0) || b.id - a.id;
}

function byPurchaseDate(a, b) {
  return (b.purchase_date ?? 0) - (a.purchase_date ?? 0) || String(a.id).localeCompare(String(b.id));
}

// Newest first, as the timeline route pages: (event_date, id) descending.
function newerThan(a, b) {
  return a.event_date !== b.event_date ? a.event_date > b.event_date : a.id > b.id;
}

// Replays the highlight animation on an element.
function flash(element) {
  element.classList.remove("fresh");
  void element.offsetWidth;
  element.classList.add("fresh");
  element.addEventListener("animationend", () => element.classList.remove("fresh"), { once: true });
}

function upsert(rows, row) {
  const index = rows.findIndex((existing) => existing.id === row.id);
  if (index >= 0) rows[index] = row;
  else rows.push(row);
}

export class CustomerView {
  constructor({ announce }) {
    this.announce = announce;
    this.state = null;
    this.typeSelect = $("timeline-type");
    this.typeSelect.addEventListener("change", () => this.reloadTimeline());
    $("timeline-more").addEventListener("click", () => this.loadMore());
    $("context-panel").addEventListener("toggle", () => $("context-panel").open && this.loadContext());
  }

  // Loads and shows customer id: false when there is no such customer;
  // throws for other failures.
  async open(id) {
    this.state = null;
    const controller = new AbortController();
    this.controller?.abort();
    this.controller = controller;
    let profile, page, types;
    try {
      [profile, page, types] = await Promise.all([
        apiJson(`${path(id)}?timeline_limit=0`, { signal: controller.signal }),
        apiJson(`${path(id)}/timeline?limit=${PAGE_SIZE}`, { signal: controller.signal }),
        apiJson(`${path(id)}/event-types`, { signal: controller.signal }),
      ]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
    // Every type of the whole timeline, with its count.
    const typeCounts = new Map(types.items.map((type) => [type.event_type, type.count]));
    this.state = {
      id,
      customer: profile.customer,
      workOrders: profile.work_orders,
      purchases: profile.purchases,
      knowledge: profile.knowledge,
      timelineTotal: profile.timeline_total,
      typeCounts,
      timeline: { type: "", items: page.items, cursor: page.next_cursor },
      controller,
    };
    this.renderAll();
    $("context-panel").open = false;
    clear($("context-text"));
    return true;
  }

  close() {
    this.controller?.abort();
    this.state = null;
  }

  get customerName() {
    const customer = this.state?.customer;
    return customer ? customer.name || customer.email || customer.id : "";
  }

  renderAll() {
    this.renderHeader();
    this.renderWorkOrders();
    this.renderPurchases();
    this.renderKnowledge();
    this.renderTypes();
    this.renderTimeline();
  }

  renderHeader() {
    const c = this.state.customer;
    $("customer-name").textContent = c.name || "(no name)";
    const status = $("customer-status");
    status.textContent = c.status ? humanize(c.status) : "No status";
    status.dataset.status = String(c.status ?? "").toLowerCase();
    const contact = (id, value, scheme) => {
      const cell = clear($(id));
      if (!value) return cell.append("—");
      cell.append(el("a", { href: `${scheme}:${value}`, text: value }));
    };
    contact("customer-email", c.email, "mailto");
    contact("customer-phone", c.phone, "tel");
    $("customer-company").textContent = c.company || "—";
    $("customer-value").textContent = formatMoney(c.lifetime_value ?? 0);
    clear($("customer-since")).append(timeElement(c.customer_since));
    $("customer-id").textContent = c.id;
    const tags = clear($("customer-tags"));
    for (const tag of Array.isArray(c.tags) ? c.tags : []) tags.append(el("li", { class: "chip", text: tag }));
    tags.hidden = tags.children.length === 0;
  }

  renderWorkOrders(freshId = null) {
    const open = this.state.workOrders.filter(isOpenWorkOrder).sort(byPriority);
    const list = clear($("work-orders"));
    for (const order of open) {
      const priority = String(order.priority ?? "").toLowerCase();
      const item = el("li", { class: "row", data: { id: order.id } },
        el("div", { class: "row-head" },
          el("span", { class: "priority", data: { priority }, text: order.priority ? humanize(order.priority) : "No priority" }),
          el("strong", { class: "mono", text: order.id }),
          order.order_type ? el("span", { class: "muted", text: humanize(order.order_type) }) : null),
        el("p", { text: order.issue_description || "No description" }),
        el("p", { class: "meta" },
          `Open ${formatAge(order.created_date)}`, " · ",
          order.assigned_to ? `Assigned to ${order.assigned_to}` : "Unassigned",
          order.status ? ` · ${humanize(order.status)}` : ""));
      list.append(item);
      if (order.id === freshId) flash(item);
    }
    $("work-orders-count").textContent = open.length ? `(${open.length})` : "";
    $("work-orders-empty").hidden = open.length > 0;
    const closed = this.state.workOrders.length - open.length;
    $("work-orders-closed").textContent = closed ? `${plural(closed, "closed work order")} not shown.` : "";
  }

  renderPurchases(freshId = null) {
    const purchases = [...this.state.purchases].sort(byPurchaseDate);
    const list = clear($("purchases"));
    for (const purchase of purchases) {
      const warranty = warrantyState(purchase.warranty_expires);
      const item = el("li", { class: "row", data: { id: purchase.id } },
        el("div", { class: "row-head" },
          el("strong", { text: purchase.product_name || "Unnamed product" }),
          el("span", { class: "money", text: formatMoney(purchase.total ?? purchase.price) })),
        el("p", { class: "meta" },
          el("span", { class: "mono", text: purchase.id }),
          purchase.product_sku ? ` · SKU ${purchase.product_sku}` : "",
          purchase.quantity && purchase.quantity !== 1 ? ` · ${purchase.quantity} pieces` : "",
          " · ", timeElement(purchase.purchase_date)),
        el("p", { class: "warranty", data: { state: warranty.state }, text: warranty.text }));
      list.append(item);
      if (purchase.id === freshId) flash(item);
    }
    $("purchases-count").textContent = purchases.length ? `(${purchases.length})` : "";
    $("purchases-empty").hidden = purchases.length > 0;
  }

  renderKnowledge(freshId = null) {
    const facts = [...this.state.knowledge].sort(byImportance);
    const list = clear($("knowledge"));
    for (const fact of facts) {
      const tags = Array.isArray(fact.tags) ? fact.tags : [];
      const item = el("li", { class: "row", data: { id: fact.id } },
        el("div", { class: "row-head" },
          el("span", { class: "importance", title: "Importance, 1 to 10", text: `${fact.importance ?? "?"}/10` }),
          fact.category ? el("span", { class: "muted", text: humanize(fact.category) }) : null),
        el("p", { class: "fact", text: fact.content }),
        el("p", { class: "meta" }, fact.source ? `${fact.source} · ` : "", timeElement(fact.created_at)),
        tags.length ? el("ul", { class: "chips small", "aria-label": "Tags" }, tags.map((tag) => el("li", { class: "chip", text: tag }))) : null);
      list.append(item);
      if (fact.id === freshId) flash(item);
    }
    $("knowledge-count").textContent = facts.length ? `(${facts.length})` : "";
    $("knowledge-empty").hidden = facts.length > 0;
  }

  // Updates the filter's options in place, so an open or focused select
  // is not disturbed by a new event.
  renderTypes() {
    const { typeCounts, timeline, timelineTotal } = this.state;
    const select = this.typeSelect;
    const wanted = [["", `All types (${timelineTotal})`]];
    for (const type of [...typeCounts.keys()].sort()) {
      wanted.push([type, `${humanize(type)} (${typeCounts.get(type)})`]);
    }
    wanted.forEach(([value, label], index) => {
      let option = select.options[index];
      if (!option || option.value !== value) {
        option = el("option", { value });
        select.insertBefore(option, select.options[index] ?? null);
      }
      if (option.textContent !== label) option.textContent = label;
    });
    while (select.options.length > wanted.length) select.options[wanted.length].remove();
    select.value = timeline.type;
    $("timeline-count").textContent = `(${plural(timelineTotal, "event")})`;
  }

  eventItem(event) {
    const details = [];
    if (event.amount !== null && event.amount !== undefined) details.push(formatMoney(event.amount));
    if (event.status) details.push(humanize(event.status));
    if (event.source_service) details.push(event.source_service);
    return el("li", { class: "event", data: { id: event.id, type: event.event_type } },
      el("div", { class: "event-head" },
        el("span", { class: "type", text: humanize(event.event_type) }),
        el("h3", { text: event.title || humanize(event.event_type) }),
        timeElement(event.event_date, true)),
      event.description ? el("p", { text: event.description }) : null,
      event.agent_notes ? el("p", { class: "notes", text: `Notes: ${event.agent_notes}` }) : null,
      details.length ? el("p", { class: "meta", text: details.join(" · ") }) : null);
  }

  renderTimeline() {
    const { items, cursor } = this.state.timeline;
    const list = clear($("timeline"));
    append(list, items.map((event) => this.eventItem(event)));
    $("timeline-empty").hidden = items.length > 0;
    $("timeline-more").hidden = !cursor;
    $("timeline-error").hidden = true;
  }

  timelineQuery(cursor) {
    const { type } = this.state.timeline;
    return `${path(this.state.id)}/timeline?limit=${PAGE_SIZE}` +
      (type ? `&types=${encodeURIComponent(type)}` : "") + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");
  }

  async timelinePage(cursor) {
    const state = this.state;
    try {
      const page = await apiJson(this.timelineQuery(cursor), { signal: state.controller.signal });
      return this.state === state ? page : null;
    } catch (error) {
      if (isAbort(error) || this.state !== state) return null;
      const message = $("timeline-error");
      message.textContent = `The timeline could not be loaded: ${describeError(error)}`;
      message.hidden = false;
      return null;
    }
  }

  async reloadTimeline() {
    this.state.timeline = { type: this.typeSelect.value, items: [], cursor: null };
    $("timeline").setAttribute("aria-busy", "true");
    const page = await this.timelinePage(null);
    $("timeline").removeAttribute("aria-busy");
    if (!page) return;
    this.state.timeline.items = page.items;
    this.state.timeline.cursor = page.next_cursor;
    this.renderTimeline();
  }

  async loadMore() {
    const button = $("timeline-more");
    const timeline = this.state.timeline;
    button.disabled = true;
    const page = await this.timelinePage(timeline.cursor);
    button.disabled = false;
    if (!page || this.state?.timeline !== timeline) return;
    const known = new Set(timeline.items.map((event) => event.id));
    const fresh = page.items.filter((event) => !known.has(event.id));
    timeline.items.push(...fresh);
    timeline.cursor = page.next_cursor;
    append($("timeline"), fresh.map((event) => this.eventItem(event)));
    button.hidden = !timeline.cursor;
    $("timeline-empty").hidden = timeline.items.length > 0;
  }

  async loadContext() {
    const state = this.state;
    if (!state) return;
    const text = $("context-text");
    text.setAttribute("aria-busy", "true");
    try {
      const markdown = await apiText(`${path(state.id)}/context?format=markdown`, { signal: state.controller.signal });
      if (this.state === state) text.textContent = markdown;
    } catch (error) {
      if (!isAbort(error) && this.state === state) text.textContent = `The context could not be loaded: ${describeError(error)}`;
    } finally {
      text.removeAttribute("aria-busy");
    }
  }

  // One change from the stream (docs/HTTP.md#the-change-stream-get-v1stream).
  apply(kind, row) {
    if (!this.state || !row) return;
    switch (kind) {
      case "timeline.appended":
        this.appendEvent(row);
        break;
      case "customer.updated":
        this.state.customer = row;
        this.renderHeader();
        flash($("customer-name").closest("section"));
        document.title = `${this.customerName} · CustomerIQ`;
        break;
      case "work_order.upserted":
        upsert(this.state.workOrders, row);
        this.renderWorkOrders(row.id);
        break;
      case "purchase.upserted":
        upsert(this.state.purchases, row);
        this.renderPurchases(row.id);
        break;
      case "knowledge.added":
        upsert(this.state.knowledge, row);
        this.renderKnowledge(row.id);
        break;
      default:
        return;
    }
    if ($("context-panel").open) this.refreshContextSoon();
  }

  appendEvent(event) {
    const { timeline, typeCounts } = this.state;
    if (timeline.items.some((known) => known.id === event.id)) return;
    this.state.timelineTotal += 1;
    typeCounts.set(event.event_type, (typeCounts.get(event.event_type) ?? 0) + 1);
    this.renderTypes();
    this.announce(`New ${humanize(event.event_type).toLowerCase()} event: ${event.title || ""}`);
    if (timeline.type && timeline.type !== event.event_type) return;
    const index = timeline.items.findIndex((known) => newerThan(event, known));
    // Older than every loaded event while more pages wait: it comes with them.
    if (index < 0 && timeline.cursor) return;
    const item = this.eventItem(event);
    item.classList.add("arrived");
    if (index < 0) {
      timeline.items.push(event);
      $("timeline").append(item);
    } else {
      timeline.items.splice(index, 0, event);
      $("timeline").children[index].before(item);
    }
    $("timeline-empty").hidden = true;
    flash(item);
  }

  refreshContextSoon() {
    clearTimeout(this.contextTimer);
    this.contextTimer = setTimeout(() => this.loadContext(), 500);
  }
}

