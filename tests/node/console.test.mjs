// The support console in headless Chromium against a real serve, a real
// nats-server and the seed: the deep link, live events published through
// NATS, search, the token form, a phone's width, an unknown customer. Every
// request the page makes must stay on the server's origin and succeed, and
// the page must log no error.
//
// CUSTOMERIQ_UPDATE_SCREENSHOT=1 writes docs/console.png (1280×800).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import puppeteer from "puppeteer-core";

import {
  ingestSeed, publishSample, runCustomeriq, sourceDir, startNats, startServe, tempDir,
} from "./support/customeriq.mjs";

const CHROMIUM = process.env.CHROMIUM_BINARY || "/usr/bin/chromium";
const TOKEN = "console-test-token";

let dir, db, nats, serve, guarded, browser;
const pages = [];

before(async () => {
  dir = tempDir("customeriq-console-");
  db = join(dir.path, "customeriq.db");
  const guardedDb = join(dir.path, "guarded.db");
  ingestSeed(dir.path, db);
  ingestSeed(dir.path, guardedDb);
  nats = await startNats(dir.path);
  [serve, guarded, browser] = await Promise.all([
    startServe({ home: dir.path, db, natsUrl: nats.url }),
    startServe({ home: dir.path, db: guardedDb, env: { CUSTOMERIQ_HTTP_TOKEN: TOKEN } }),
    puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Tests run as root (no sandbox then); CI machines have a small /dev/shm and no GPU.
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-default-browser-check"],
    }),
  ]);
});

after(async () => {
  for (const { page } of pages) page.removeAllListeners();
  await browser?.close();
  await serve?.stop();
  await guarded?.stop();
  await nats?.stop();
  dir?.remove();
});

// A page that records every request, failure and error; `check` asserts
// none left the origin or failed, and no error was logged but the
// `expected` ones (the browser logs a 401 or 404 it was answered).
async function openPage(baseUrl, { width = 1280, height = 800 } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const record = { page, requests: [], failures: [], errors: [] };
  pages.push(record);
  page.on("request", (request) => record.requests.push(request.url()));
  page.on("requestfailed", (request) => {
    const url = request.url();
    const reason = request.failure()?.errorText ?? "";
    // The page cancels these itself: stale searches, a stream it no longer follows.
    const cancelled = reason === "net::ERR_ABORTED" && /\/v1\/(stream|customers\?q=)/.test(url);
    // While a test has stopped the server, the stream's reconnections fail.
    const serverDown = record.serverDown && /\/v1\/stream/.test(url);
    if (!cancelled && !serverDown) record.failures.push(`${url}: ${reason}`);
  });
  page.on("pageerror", (error) => record.errors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warn") record.errors.push(`console ${message.type()}: ${message.text()}`);
  });
  record.check = (expected = []) => {
    for (const url of record.requests) assert.ok(url.startsWith(`${baseUrl}/`), `a request left ${baseUrl}: ${url}`);
    assert.deepEqual(record.failures, [], "failed requests");
    const unexpected = record.errors.filter((error) => !expected.some((pattern) => pattern.test(error)));
    assert.deepEqual(unexpected, [], "errors on the page");
  };
  return record;
}

const text = (page, selector) => page.$eval(selector, (element) => element.textContent);

async function waitForText(page, selector, wanted, timeout = 10000) {
  await page.waitForFunction((s, w) => document.querySelector(s)?.textContent.includes(w), { timeout }, selector, wanted);
}

test("the deep link /customers/cust_001 shows the seed customer", async () => {
  const { page, check } = await openPage(serve.baseUrl);
  const started = Date.now();
  const response = await page.goto(`${serve.baseUrl}/customers/cust_001`);
  await waitForText(page, "#customer-name", "John Smith");
  const shownMs = Date.now() - started;
  console.log(`# customer shown ${shownMs} ms after the navigation started`);

  const headers = response.headers();
  assert.match(headers["content-type"], /^text\/html/);
  assert.match(headers["content-security-policy"], /^default-src 'self';/);
  assert.ok(headers.etag, "an ETag");
  assert.equal(await page.$eval("#customer-view", (view) => view.hidden), false);
  assert.equal(await text(page, "#customer-email"), "john.smith@example.com");
  assert.equal(await text(page, "#customer-value"), "$299.99");
  const purchases = await text(page, "#purchases");
  assert.match(purchases, /Wireless Headphones Pro/);
  assert.match(purchases, /ord_12345/);
  assert.match(purchases, /Warranty (active|expires|expired)/);
  const workOrders = await text(page, "#work-orders");
  assert.match(workOrders, /WO-9999/);
  assert.match(workOrders, /technician_05/);
  assert.match(workOrders, /Bluetooth module needs replacement/);
  assert.match(await text(page, "#knowledge"), /Bluetooth pairing is inconsistent/);
  assert.equal(await page.$$eval("#timeline > li", (items) => items.length), 3);
  assert.match(await text(page, "#timeline > li:first-child"), /Work order WO-9999/);  // newest first
  // The filter offers every type of the whole timeline, with its count.
  assert.deepEqual(await page.$$eval("#timeline-type option", (options) => options.map((option) => option.textContent)),
    ["All types (3)", "Purchase (1)", "Repair (1)", "Support ticket (1)"]);
  await page.select("#timeline-type", "purchase");
  await page.waitForFunction(() => document.querySelectorAll("#timeline > li").length === 1, { timeout: 5000 });
  assert.match(await text(page, "#timeline > li"), /Wireless Headphones Pro/);
  await page.select("#timeline-type", "");
  await page.waitForFunction(() => document.querySelectorAll("#timeline > li").length === 3, { timeout: 5000 });
  assert.equal(await page.title(), "John Smith · CustomerIQ");

  // The assistant context opens as preformatted text.
  await page.click("#context-panel summary");
  await waitForText(page, "#context-text", "John Smith");
  check();
});

test("a new event published to NATS appears without a reload", async () => {
  const { page, check } = await openPage(serve.baseUrl);
  await page.goto(`${serve.baseUrl}/customers/cust_001`);
  await waitForText(page, "#customer-name", "John Smith");
  await page.waitForSelector('#live[data-state="live"]');
  await page.evaluate(() => (window.consoleTestMarker = "still here"));
  const before = await page.$$eval("#timeline > li", (items) => items.length);

  const published = Date.now();
  publishSample(dir.path, nats.url, "repair");
  await page.waitForSelector("#timeline > li.arrived", { timeout: 10000 });
  console.log(`# repair event on screen ${Date.now() - published} ms after publish started`);
  assert.equal(await page.$$eval("#timeline > li", (items) => items.length), before + 1);
  assert.match(await text(page, "#timeline > li:first-child"), /Work order/);
  assert.match(await text(page, "#timeline > li:first-child .type"), /Repair/);
  // The repair's work order arrived too, in place.
  await page.waitForFunction(() => document.querySelectorAll("#work-orders > li").length >= 2, { timeout: 5000 });

  const noted = Date.now();
  publishSample(dir.path, nats.url, "note");
  await waitForText(page, "#timeline > li:first-child", "Prefers email", 10000);
  await waitForText(page, "#knowledge", "Prefers email over phone calls", 5000);
  console.log(`# note on screen ${Date.now() - noted} ms after publish started`);
  assert.match(await text(page, "#announcer"), /New note event/);

  assert.equal(await page.evaluate(() => window.consoleTestMarker), "still here", "the page reloaded");
  assert.equal(page.url(), `${serve.baseUrl}/customers/cust_001`);

  if (process.env.CUSTOMERIQ_UPDATE_SCREENSHOT === "1") {
    publishSample(dir.path, nats.url, "profile_update");
    await waitForText(page, "#customer-company", "Acme Corp", 10000);
    await new Promise((resolve) => setTimeout(resolve, 3000));  // past the highlight
    await page.evaluate(() => document.activeElement?.blur());
    await page.screenshot({ path: join(sourceDir, "docs/console.png") });
  }
  check();
});

test("search finds the customer by name and by email, and choosing opens the page", async () => {
  const { page, check } = await openPage(serve.baseUrl);
  await page.goto(`${serve.baseUrl}/`);
  await page.waitForSelector("#welcome-view:not([hidden])");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "search", "the search box has the focus");

  await page.type("#search", "john");
  await waitForText(page, "#search-results", "John Smith", 5000);
  assert.match(await text(page, "#search-results > li:first-child"), /john\.smith@example\.com/);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Enter");
  await waitForText(page, "#customer-name", "John Smith");
  assert.equal(page.url(), `${serve.baseUrl}/customers/cust_001`);

  // Back returns to where the search started.
  await page.goBack();
  await page.waitForSelector("#welcome-view:not([hidden])");
  assert.equal(page.url(), `${serve.baseUrl}/`);

  // "/" goes to the search box from anywhere on the page.
  await page.click("#welcome-heading");
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "search");
  await page.evaluate(() => (document.getElementById("search").value = ""));
  await page.type("#search", "john.smith@example.com");
  await page.waitForFunction(
    () => document.querySelector("#search-results > li")?.textContent.includes("matched email"), { timeout: 5000 });
  await page.click("#search-results > li:first-child");
  await waitForText(page, "#customer-name", "John Smith");
  assert.equal(page.url(), `${serve.baseUrl}/customers/cust_001`);

  // A word no customer has says so.
  await page.click("#search", { count: 3 });
  await page.type("#search", "zzqqxx");
  await waitForText(page, "#search-status", "No customer matches", 5000);
  check();
});

test("an unknown customer shows the not-found view", async () => {
  const { page, check } = await openPage(serve.baseUrl);
  await page.goto(`${serve.baseUrl}/customers/nobody_here`);
  await page.waitForSelector("#problem-view:not([hidden])");
  assert.equal(await text(page, "#problem-heading"), "Customer not found");
  assert.match(await text(page, "#problem-text"), /no customer with id “nobody_here”/);
  assert.equal(await page.$eval("#customer-view", (view) => view.hidden), true);
  check([/status of 404/]);
});

test("with a token configured the page asks for it, says when it is wrong, then works", async () => {
  const { page, check } = await openPage(guarded.baseUrl);
  await page.goto(`${guarded.baseUrl}/customers/cust_001`);
  await page.waitForSelector("#token-dialog[open]");
  assert.match(await text(page, "#token-message"), /needs an access token/);

  await page.type("#token-input", "not-the-token");
  await page.keyboard.press("Enter");
  await waitForText(page, "#token-message", "refused that token", 5000);
  assert.equal(await page.$eval("#token-dialog", (dialog) => dialog.open), true);

  await page.type("#token-input", TOKEN);
  await page.keyboard.press("Enter");
  await waitForText(page, "#customer-name", "John Smith");
  await page.waitForSelector('#live[data-state="live"]');
  assert.equal(await page.$eval("#token-dialog", (dialog) => dialog.open), false);

  // Kept for the tab: a reload does not ask again.
  await page.reload();
  await waitForText(page, "#customer-name", "John Smith");
  assert.equal(await page.$eval("#token-dialog", (dialog) => dialog.open), false);
  check([/status of 401/]);
});

test("at a phone's width (390 px) the customer page has no horizontal scroll", async () => {
  const { page, check } = await openPage(serve.baseUrl, { width: 390, height: 844 });
  await page.goto(`${serve.baseUrl}/customers/cust_001`);
  await waitForText(page, "#customer-name", "John Smith");
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `the page is ${scrollWidth} px wide in a ${clientWidth} px window`);
  check();
});

test("after the server restarts, the page reconnects and resumes with Last-Event-ID", async () => {
  const record = await openPage(serve.baseUrl);
  const { page, requests, check } = record;
  await page.goto(`${serve.baseUrl}/customers/cust_001`);
  await waitForText(page, "#customer-name", "John Smith");
  await page.waitForSelector('#live[data-state="live"]');
  await page.evaluate(() => (window.consoleTestMarker = "still here"));
  publishSample(dir.path, nats.url, "contact");  // so the page knows a change's id to resume after
  await page.waitForSelector("#timeline > li.arrived", { timeout: 10000 });

  const port = new URL(serve.baseUrl).port;
  record.serverDown = true;
  await serve.stop();
  await page.waitForSelector('#live[data-state="disconnected"]', { timeout: 5000 });
  // Committed while no server runs: only the change log can bring it.
  const event = { customer_id: "cust_001", event_type: "note", event_id: `reconnect-${Date.now()}`,
                  timestamp: Math.floor(Date.now() / 1000), source_service: "console-test",
                  data: { content: "Written while the server was down", importance: "low" } };
  const file = join(dir.path, "while-down.jsonl");
  writeFileSync(file, `${JSON.stringify(event)}\n`);
  const ingested = runCustomeriq(dir.path, ["--db", db, "ingest", file]);
  assert.equal(ingested.code, 0, ingested.stderr);
  const profileReads = () => requests.filter((url) => url.includes("/v1/customers/cust_001?")).length;
  const readsBefore = profileReads();

  serve = await startServe({ home: dir.path, db, natsUrl: nats.url, env: { CUSTOMERIQ_HTTP_ADDR: `127.0.0.1:${port}` } });
  await waitForText(page, "#timeline", "Written while the server was down", 15000);
  await page.waitForSelector('#live[data-state="live"]');
  assert.equal(profileReads(), readsBefore, "the page read the profile again instead of resuming");
  assert.equal(await page.evaluate(() => window.consoleTestMarker), "still here", "the page reloaded");
  check([/ERR_CONNECTION_(REFUSED|RESET)|ERR_EMPTY_RESPONSE/]);
});
