// The support console's routes: the files built into the binary are the
// ones in core/http/console/, served with their type, an ETag and a CSP
// that keeps the page on its own origin.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/console.hpp"
#include "http/console_assets.hpp"

using customeriq::http::Console;
using customeriq::http::Request;
using customeriq::http::Response;

namespace {

Request get(std::vector<std::string> segments, std::string method = "GET") {
  Request request;
  request.method = std::move(method);
  request.segments = std::move(segments);
  for (const auto& segment : request.segments) request.path += "/" + segment;
  if (request.path.empty()) request.path = "/";
  return request;
}

const std::string* header(const Response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers)
    if (key == name) return &value;
  return nullptr;
}

std::string source_file(const std::string& name) {
  std::ifstream in(std::filesystem::path(CUSTOMERIQ_SOURCE_DIR) / "core/http/console" / name, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

TEST_CASE("console: the page at / and /customers/{id}, its files under /console/", "[http_console]") {
  CHECK(Console::route(get({})) == std::string("/"));
  CHECK(Console::route(get({"customers", "cust_001"})) == std::string("/customers/{id}"));
  CHECK(Console::route(get({"console", "app.js"})) == std::string("/console/{file}"));
  CHECK(Console::route(get({"customers"})) == nullptr);
  CHECK(Console::route(get({"v1", "customers", "cust_001"})) == nullptr);
  CHECK(Console::route(get({"customers", "cust_001", "timeline"})) == nullptr);

  const Console console;
  const Response page = console.serve(get({}));
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body == source_file("index.html"));
  CHECK(console.serve(get({"customers", "jane doe"})).body == page.body);
  REQUIRE(header(page, "Content-Security-Policy"));
  CHECK(header(page, "Content-Security-Policy")->starts_with("default-src 'self'; script-src 'self'; style-src 'self';"));
  CHECK(*header(page, "Cache-Control") == "no-cache");
  CHECK(*header(page, "X-Content-Type-Options") == "nosniff");
  REQUIRE(header(page, "Referrer-Policy"));
  CHECK(*header(page, "Referrer-Policy") == "no-referrer");
  CHECK_THAT(*header(page, "Content-Security-Policy"), Catch::Contains("frame-ancestors 'none'"));
}

TEST_CASE("console: every file in core/http/console/ is built in, byte for byte, with its type", "[http_console]") {
  const Console console;
  std::size_t on_disk = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(CUSTOMERIQ_SOURCE_DIR) / "core/http/console")) {
    const std::string name = entry.path().filename().string();
    ++on_disk;
    INFO(name << " (list it in core/CMakeLists.txt's console_files)");
    const Response file = console.serve(get({"console", name}));
    REQUIRE(file.status == 200);
    CHECK(file.body == source_file(name));
    const std::string extension = entry.path().extension().string();
    if (extension == ".js") CHECK(file.content_type == "text/javascript; charset=utf-8");
    if (extension == ".css") CHECK(file.content_type == "text/css; charset=utf-8");
    if (extension == ".svg") CHECK(file.content_type == "image/svg+xml");
  }
  CHECK(customeriq::http::console_files().size() == on_disk);
}

TEST_CASE("console: an ETag makes an unchanged file a 304, other methods and files are refused", "[http_console]") {
  const Console console;
  const Response first = console.serve(get({"console", "app.js"}));
  REQUIRE(header(first, "ETag"));
  const std::string etag = *header(first, "ETag");
  CHECK(etag.size() == 34);  // "32 hex digits"

  Request again = get({"console", "app.js"});
  again.headers.emplace_back("if-none-match", etag);
  const Response unchanged = console.serve(again);
  CHECK(unchanged.status == 304);
  CHECK(unchanged.body.empty());
  CHECK(*header(unchanged, "ETag") == etag);

  Request stale = get({"console", "app.js"});
  stale.headers.emplace_back("if-none-match", "\"0123\"");
  CHECK(console.serve(stale).status == 200);
  CHECK(*header(console.serve(get({"console", "api.js"})), "ETag") != etag);

  const Response missing = console.serve(get({"console", "nope.js"}));
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"error":{"code":"not_found","message":"no console file 'nope.js'"}})");

  const Response posted = console.serve(get({}, "POST"));
  CHECK(posted.status == 405);
  CHECK(posted.body == R"({"error":{"code":"method_not_allowed","message":"/ takes GET, not POST"}})");
  CHECK(*header(posted, "Allow") == "GET");
}
