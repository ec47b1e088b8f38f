// libFuzzer target: bytes as a client sends them on a connection →
// parse_request (the server's own parser and limits) → the API's router,
// its bearer-token check and every route, over a real seeded store, the
// real pipeline and writer, read pools and change feed. Invariants:
//   - a refused request gets a 4xx naming the problem, never a crash;
//   - without the token, every route but /livez, /readyz and the console's
//     pages answers 401;
//   - every request is answered, never with a 5xx on a healthy store;
//   - an error body is {"error":{"code","message"}} with the status's code
//     (on /mcp, the MCP transport's JSON-RPC error, docs/MCP.md, is also
//     right) and a message free of SQL, stack traces and other internals;
//   - a JSON answer is JSON;
//   - no answer lets another origin in (CORS stays closed: no
//     Access-Control-Allow-* header).
#include <cctype>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/api.hpp"
#include "http/change_feed.hpp"
#include "http/console.hpp"
#include "http/http_server.hpp"
#include "http/read_pool.hpp"
#include "metrics/metrics.hpp"
#include "pipeline/writer_thread.hpp"
#include "text.hpp"

namespace {

using customeriq::Json;
using customeriq::fuzz::violation;
namespace http = customeriq::http;
constexpr std::string_view kTarget = "http_fuzz";
constexpr const char* kToken = "fuzz-token-0123456789";

struct Answer {
  http::Response response;
  bool streamed = false;
};

class CapturingResponder final : public http::Responder {
 public:
  void respond(http::Response response) override { answer_.set_value({std::move(response), false}); }
  void stream(std::shared_ptr<http::EventStreamSource>) override { answer_.set_value({{}, true}); }
  std::future<Answer> answer() { return answer_.get_future(); }

 private:
  std::promise<Answer> answer_;
};

struct Service {
  Service()
      : reads(customeriq::fuzz::seeded_store().database, 2),
        intake(customeriq::fuzz::seeded_store().database, 2),
        lifecycle(customeriq::fuzz::seeded_store().database, 1, 64),
        feed(customeriq::fuzz::seeded_store().database, http::ChangeFeed::Options{}),
        api(http::ApiContext{reads, intake, lifecycle, customeriq::fuzz::seeded_store().database,
                             *customeriq::fuzz::seeded_store().writer, feed, metrics,
                             [] { return http::Readiness{true, {{"database", "ok"}}}; }, kToken}) {}

  customeriq::MetricsRegistry metrics;
  http::ReadPool reads, intake, lifecycle;
  http::ChangeFeed feed;
  http::Api api;
};

// The scheme is case-insensitive (RFC 9110 11.1), the token is not.
bool authorized(const http::Request& request) {
  const std::string* header = request.header("authorization");
  return header && header->size() > 7 && customeriq::ascii_lower(header->substr(0, 7)) == "bearer " &&
         header->substr(7) == kToken;
}

bool is_json_rpc_error(const Json& body) {
  const Json error = body.value("error", Json());
  return body.value("jsonrpc", Json()) == "2.0" && body.contains("id") && error.is_object() &&
         error.value("code", Json()).is_number_integer();
}

void check_error_body(const http::Response& response, std::string_view input, bool mcp_route = false) {
  Json body;
  try {
    body = Json::parse(response.body);
  } catch (const std::exception&) {
    violation(kTarget, input, "an error body that is not JSON: " + response.body.substr(0, 400));
  }
  const Json error = body.value("error", Json());
  const bool code_fits = error.is_object() && (error.value("code", Json()) == http::error_code(response.status) ||
                                               (mcp_route && is_json_rpc_error(body)));
  if (!code_fits || !error.contains("message") || !error["message"].is_string())
    violation(kTarget, input, "a malformed error body for " + std::to_string(response.status) + ": " +
                                  response.body.substr(0, 400));
  const std::string message = error["message"];
  if (const auto detail = customeriq::fuzz::internal_detail(message, input); !detail.empty())
    violation(kTarget, input, "an error body shows an internal detail (" + detail + "): " + message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static Service* service = new Service;
  static const http::ServerOptions limits;

  std::optional<http::Request> request;
  try {
    request = http::parse_request(input, limits);
  } catch (const http::RequestError& refusal) {
    if (refusal.status < 400 || refusal.status > 499)
      violation(kTarget, input, "the parser refused with " + std::to_string(refusal.status));
    check_error_body(http::Response::error(refusal.status, refusal.what()), input);
    return 0;
  } catch (const std::exception& error) {
    violation(kTarget, input, std::string("parse_request threw: ") + error.what());
  }
  if (!request) return 0;  // incomplete: a connection would wait for more
  request->request_id = "fuzz";
  request->remote_address = "127.0.0.1";

  const bool open_route = request->segments.size() == 1 &&
                          (request->segments[0] == "livez" || request->segments[0] == "readyz");
  const bool console_page = http::Console::route(*request) != nullptr;
  const bool with_token = authorized(*request);
  const bool mcp_route = request->segments.size() == 1 && request->segments[0] == "mcp";

  auto responder = std::make_shared<CapturingResponder>();
  auto future = responder->answer();
  try {
    service->api.handle(*request, responder);
  } catch (const std::exception& error) {
    violation(kTarget, input, std::string("the router threw: ") + error.what());
  }
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
    violation(kTarget, input, "no answer within 20 s");
  const Answer answer = future.get();
  if (answer.streamed) {
    if (!with_token) violation(kTarget, input, "a stream opened without the token");
    return 0;
  }
  const http::Response& response = answer.response;
  if (!with_token && !open_route && !console_page && response.status != 401)
    violation(kTarget, input, "answered " + std::to_string(response.status) + " without the token");
  for (const auto& [name, value] : response.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.starts_with("access-control-allow-"))
      violation(kTarget, input, "a CORS header: " + name + ": " + value);
  }
  if (response.status < 200 || response.status > 599)
    violation(kTarget, input, "an impossible status " + std::to_string(response.status));
  if (response.status >= 500)
    violation(kTarget, input, "a " + std::to_string(response.status) + " on a healthy store: " +
                                  response.body.substr(0, 400));
  if (response.status >= 400) {
    check_error_body(response, input, mcp_route);
  } else if (response.content_type == "application/json") {
    try {
      (void)Json::parse(response.body);
    } catch (const std::exception& error) {
      violation(kTarget, input, std::string("a JSON answer that is not JSON: ") + error.what());
    }
  }
  return 0;
}
