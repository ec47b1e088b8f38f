// The MCP server through the official MCP client SDK, over both of its
// transports: `customeriq mcp` on stdio, and POST /mcp of a real
// `customeriq serve` with a bearer token. The SDK checks every tool's
// structuredContent against the outputSchema the tool declares.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

import { ingestSeed, mcpCommand, runCustomeriq, startServe, tempDir } from "./support/customeriq.mjs";

const TOKEN = "s3cret-token-for-the-mcp-test";
const TOOLS = ["find_customer", "get_customer_context", "get_customer_timeline", "search_customer_data", "list_open_work_orders"];

let dir, db, serve;
before(async () => {
  dir = tempDir();
  db = join(dir.path, "customeriq.db");
  ingestSeed(dir.path, db);
  serve = await startServe({ home: dir.path, db, env: { CUSTOMERIQ_HTTP_TOKEN: TOKEN } });
});
after(async () => {
  await serve?.stop();
  dir?.remove();
});

function text(result) {
  return result.content.filter((part) => part.type === "text").map((part) => part.text).join("\n");
}

// What every transport must do the same: the question of the docs, each
// tool's answer against its schema, errors the model can act on.
function sameServer(connect) {
  let client;
  before(async () => {
    client = await connect();
    // The SDK checks structuredContent against the output schemas it has listed.
    await client.listTools();
  });
  after(async () => client?.close());

  test("initialize names the server and says how to use it", () => {
    assert.equal(client.getServerVersion().name, "customeriq");
    assert.ok(client.getServerCapabilities().tools, "the tools capability");
    assert.match(client.getInstructions(), /find_customer.*get_customer_context/s);
  });

  test("tools/list gives the five read-only tools with input and output schemas", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name), TOOLS);
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, "object", tool.name);
      assert.equal(tool.outputSchema.type, "object", tool.name);
      assert.equal(tool.annotations.readOnlyHint, true, tool.name);
      assert.equal(tool.annotations.destructiveHint, false, tool.name);
    }
  });

  test("what is going on with john.smith@example.com? find_customer, then get_customer_context", async () => {
    const found = await client.callTool({ name: "find_customer", arguments: { query: "john.smith@example.com" } });
    assert.equal(found.isError, false);
    assert.equal(found.structuredContent.candidates[0].customer_id, "cust_001");
    assert.equal(found.structuredContent.candidates[0].matched, "email");

    const context = await client.callTool({ name: "get_customer_context", arguments: { customer_id: "cust_001" } });
    assert.equal(context.isError, false);
    const document = text(context);
    for (const fact of ["John Smith", "ord_12345", "Wireless Headphones Pro", "WO-9999", "technician_05", "Bluetooth pairing"])
      assert.ok(document.includes(fact), `${fact} in:\n${document}`);
    assert.equal(context.structuredContent.text, document);
    assert.equal(context.structuredContent.truncated, false);
  });

  test("every tool answers within its output schema, a cut answer with its follow-up call", async () => {
    const timeline = await client.callTool({ name: "get_customer_timeline", arguments: { customer_id: "cust_001", limit: 1 } });
    assert.equal(timeline.structuredContent.events.length, 1);
    assert.equal(timeline.structuredContent.events[0].event_type, "repair");
    const next = timeline.structuredContent.next_call;
    assert.equal(next.name, "get_customer_timeline");
    assert.ok(text(timeline).includes(`call get_customer_timeline ${JSON.stringify(next.arguments)}`));
    const rest = await client.callTool(next);
    assert.deepEqual(rest.structuredContent.events.map((event) => event.event_type), ["support_ticket"]);

    const hits = await client.callTool({ name: "search_customer_data", arguments: { query: "bluetooth", customer_id: "cust_001" } });
    assert.ok(hits.structuredContent.hits.length >= 2, JSON.stringify(hits.structuredContent));
    assert.ok(hits.structuredContent.hits.every((hit) => hit.customer_id === "cust_001"));

    const orders = await client.callTool({ name: "list_open_work_orders", arguments: {} });
    assert.deepEqual(orders.structuredContent.work_orders.map((order) => order.id), ["WO-9999"]);
    assert.equal(orders.structuredContent.total, 1);
    assert.equal(orders.structuredContent.next_call, null);
  });

  test("an unknown customer or a bad argument is a tool error; an unknown tool a protocol error", async () => {
    const unknown = await client.callTool({ name: "get_customer_context", arguments: { customer_id: "cust_404" } });
    assert.equal(unknown.isError, true);
    assert.match(text(unknown), /cust_404.*find_customer/s);

    const bad = await client.callTool({ name: "get_customer_timeline", arguments: { customer_id: "cust_001", limit: 1000 } });
    assert.equal(bad.isError, true);
    assert.match(text(bad), /limit must be an integer from 1 to 100, got number 1000/);

    await assert.rejects(client.callTool({ name: "drop_everything", arguments: {} }), (error) => error.code === -32602);
  });
}

describe("over stdio (customeriq mcp)", () => {
  sameServer(async () => {
    const { command, args, env, cwd } = mcpCommand(dir.path, db);
    const client = new Client({ name: "customeriq-test", version: "1.0.0" });
    await client.connect(new StdioClientTransport({ command, args, env, cwd, stderr: "pipe" }));
    return client;
  });

  test("stdout carries only protocol messages, logs go to stderr, end of input exits 0", () => {
    const input = [
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
      "this is not json",
      JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "find_customer", arguments: { query: "John" } } }),
    ].join("\n") + "\n";
    const result = runCustomeriq(dir.path, ["--db", db, "mcp"], {}, input);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((message) => message.id), [1, null, 2]);
    assert.equal(lines[0].result.protocolVersion, "2025-06-18");
    assert.equal(lines[1].error.code, -32700);
    assert.equal(lines[2].result.structuredContent.candidates[0].customer_id, "cust_001");
    assert.match(result.stderr, /\[MCP\] Serving/);
  });

  test("a database that does not exist is a clear error on stderr, exit 3", () => {
    const result = runCustomeriq(dir.path, ["--db", join(dir.path, "missing", "none.db"), "mcp"], {}, "");
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /none\.db/);
  });
});

describe("over Streamable HTTP (POST /mcp)", () => {
  const url = () => `${serve.baseUrl}/mcp`;
  sameServer(async () => {
    const client = new Client({ name: "customeriq-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url()), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }),
    );
    return client;
  });

  const ping = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
  const post = (body, headers = {}) =>
    fetch(url(), {
      method: "POST",
      body,
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        Authorization: `Bearer ${TOKEN}`,
        ...headers,
      },
    });

  test("the bearer token is required", async () => {
    const missing = await fetch(url(), { method: "POST", body: ping, headers: { "Content-Type": "application/json" } });
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get("www-authenticate"), /^Bearer/);
    assert.equal((await post(ping, { Authorization: "Bearer wrong" })).status, 401);
    const client = new Client({ name: "customeriq-test", version: "1.0.0" });
    await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(url()))));
  });

  test("a request from a page of another origin is refused; the server's own origin and none are fine", async () => {
    const foreign = await post(ping, { Origin: "http://evil.example" });
    assert.equal(foreign.status, 403);
    assert.equal((await foreign.json()).error.code, -32600);
    assert.equal((await post(ping, { Origin: "null" })).status, 403);
    const own = await post(ping, { Origin: new URL(serve.baseUrl).origin });
    assert.equal(own.status, 200);
    assert.deepEqual((await own.json()).result, {});
    assert.equal((await post(ping)).status, 200);
  });

  test("notifications are accepted with 202; bad methods, types, versions and bodies get the right status", async () => {
    const accepted = await post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
    assert.equal(accepted.status, 202);
    assert.equal(await accepted.text(), "");

    const get = await fetch(url(), { headers: { Accept: "text/event-stream", Authorization: `Bearer ${TOKEN}` } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");

    const version = await post(ping, { "MCP-Protocol-Version": "1999-01-01" });
    assert.equal(version.status, 400);
    assert.match((await version.json()).error.message, /1999-01-01/);
    assert.equal((await post(ping, { "MCP-Protocol-Version": "2025-06-18" })).status, 200);

    const notJson = await post("{oops");
    assert.equal(notJson.status, 400);
    assert.equal((await notJson.json()).error.code, -32700);
    assert.equal((await post(ping, { "Content-Type": "text/plain" })).status, 415);
    assert.equal((await post(ping, { Accept: "text/html" })).status, 406);
  });
});
