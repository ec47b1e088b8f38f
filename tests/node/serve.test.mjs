// The harness the browser and MCP tests stand on, end to end: an event
// published to a real nats-server reaches the HTTP API of a real serve.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";

import { ingestSeed, publishSample, startNats, startServe, tempDir } from "./support/customeriq.mjs";

let dir, nats, serve;
before(async () => {
  dir = tempDir();
  const db = join(dir.path, "customeriq.db");
  ingestSeed(dir.path, db);
  nats = await startNats(dir.path);
  serve = await startServe({ home: dir.path, db, natsUrl: nats.url });
});
after(async () => {
  await serve?.stop();
  await nats?.stop();
  dir?.remove();
});

test("an event published to NATS shows in the HTTP timeline", async () => {
  const timeline = async () => (await (await fetch(`${serve.baseUrl}/v1/customers/cust_001/timeline?types=repair`)).json()).items;
  const before = await timeline();
  publishSample(dir.path, nats.url, "repair");
  const deadline = Date.now() + 10000;
  let items = before;
  while (items.length === before.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    items = await timeline();
  }
  assert.ok(items.length > before.length, `no new repair event in ${JSON.stringify(items)}`);
});
