#include "http/api.hpp"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <initializer_list>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <spdlog/spdlog.h>

#include "context/context_document.hpp"
#include "hash.hpp"
#include "http/change_stream.hpp"
#include "http/console.hpp"
#include "store/lifecycle.hpp"
#include "store/store_reader.hpp"
#include "store/store_schema.hpp"
#include "text.hpp"

namespace customeriq::http {
namespace {

// A bigger document than this is no longer a summary: read the profile.
constexpr std::int64_t kMaxContextCharsOverHttp = 1000000;

constexpr const char* kRequestsHelp = "HTTP requests answered, by route and status code";

// Counts each answer by route and status, and times it.
class CountingResponder final : public Responder {
 public:
  CountingResponder(std::shared_ptr<Responder> inner, MetricsRegistry& metrics, Histogram& seconds,
                    std::string route)
      : inner_(std::move(inner)), metrics_(metrics), seconds_(seconds), route_(std::move(route)) {}

  void respond(Response response) override {
    count(response.status);
    inner_->respond(std::move(response));
  }
  void stream(std::shared_ptr<EventStreamSource> source) override {
    count(200);
    inner_->stream(std::move(source));
  }

 private:
  void count(int status) {
    metrics_.counter("customeriq_http_requests_total", kRequestsHelp,
                     {{"route", route_}, {"code", std::to_string(status)}})
        .add();
    seconds_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  }

  std::shared_ptr<Responder> inner_;
  MetricsRegistry& metrics_;
  Histogram& seconds_;
  std::string route_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

[[noreturn]] void bad_request(const std::string& message) { throw RequestError(400, message); }

void allow_parameters(const Request& request, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : request.query) {
    bool known = false;
    for (auto candidate : allowed) known |= name == candidate;
    if (!known) {
      std::string list;
      for (auto candidate : allowed) list += (list.empty() ? "" : ", ") + std::string(candidate);
      bad_request("unknown query parameter '" + name + "'" +
                  (list.empty() ? std::string(": this route takes none") : " (this route takes: " + list + ")"));
    }
  }
}

std::optional<std::int64_t> integer_parameter(const Request& request, std::string_view name, std::int64_t min,
                                              std::int64_t max) {
  const std::string* text = request.query_value(name);
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    bad_request(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                std::to_string(max) + ", got '" + text->substr(0, 40) + "'");
  }
  return value;
}

std::optional<std::string> text_parameter(const Request& request, std::string_view name) {
  const std::string* text = request.query_value(name);
  if (!text) return std::nullopt;
  return *text;
}

bool boolean_parameter(const Request& request, std::string_view name) {
  const std::string* text = request.query_value(name);
  if (!text) return false;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  bad_request(std::string(name) + " must be true or false, got '" + text->substr(0, 40) + "'");
}

std::vector<std::string> list_parameter(const Request& request, std::string_view name) {
  std::vector<std::string> items;
  const std::string* text = request.query_value(name);
  if (!text) return items;
  for (std::size_t start = 0; start <= text->size();) {
    std::size_t end = text->find(',', start);
    if (end == std::string::npos) end = text->size();
    if (end > start) items.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  if (items.empty()) bad_request(std::string(name) + " must name at least one value");
  return items;
}

Response not_found_customer(const std::string& id) {
  return Response::error(404, "no customer with id '" + id + "'");
}

Json items(Json array) { return Json{{"items", std::move(array)}}; }

const Console& console() {
  static const Console pages;
  return pages;
}

// The dead letter a payload became: its reason, as the store kept it.
std::string dead_letter_reason(StoreReader& reader, const std::string& payload) {
  SQLite::Statement query(reader.database(), "SELECT reason FROM dead_letters WHERE payload_hash = ?");
  query.bind(1, fnv1a_128_hex(payload));
  return query.executeStep() ? query.getColumn(0).getString() : std::string("dead-lettered");
}

}  // namespace

Api::Api(ApiContext context)
    : context_(std::move(context)),
      request_seconds_(context_.metrics.histogram(
          "customeriq_http_request_duration_seconds", "Time from a request's arrival to its answer",
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})) {}

bool Api::authorized(const Request& request) const {
  if (!context_.token) return true;
  const std::string* header = request.header("authorization");
  if (!header || header->size() < 7) return false;
  std::string scheme = header->substr(0, 7);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "bearer " && constant_time_equal(std::string_view(*header).substr(7), *context_.token);
}

void Api::handle(Request& request, std::shared_ptr<Responder> responder) {
  // The console's pages hold no data: no token, or the page could not ask for one.
  if (const char* page = Console::route(request)) {
    CountingResponder counted(std::move(responder), context_.metrics, request_seconds_, page);
    return counted.respond(console().serve(request));
  }
  const auto& path = request.segments;
  const auto n = path.size();
  const bool v1 = n >= 2 && path[0] == "v1";
  const char* route = nullptr;
  const char* method = "GET";
  void (Api::*serve)(Request&, std::shared_ptr<Responder>) = nullptr;

  if (n == 1 && path[0] == "livez") route = "/livez";
  else if (n == 1 && path[0] == "readyz") route = "/readyz";
  else if (n == 1 && path[0] == "metrics") route = "/metrics";
  else if (v1 && n == 2 && path[1] == "customers") route = "/v1/customers", serve = &Api::customers;
  else if (v1 && n == 3 && path[1] == "customers" && request.method == "DELETE")
    route = "DELETE /v1/customers/{id}", method = "DELETE", serve = &Api::erase;
  else if (v1 && n == 3 && path[1] == "customers") route = "/v1/customers/{id}", serve = &Api::customer;
  else if (v1 && n == 4 && path[1] == "customers" && path[3] == "merge")
    route = "/v1/customers/{id}/merge", method = "POST", serve = &Api::merge;
  else if (v1 && n == 4 && path[1] == "customers" && path[3] == "audit")
    route = "/v1/customers/{id}/audit", serve = &Api::audit;
  else if (v1 && n == 4 && path[1] == "merges" && path[3] == "undo")
    route = "/v1/merges/{id}/undo", method = "POST", serve = &Api::undo_merge;
  else if (v1 && n == 3 && path[1] == "erasures") route = "/v1/erasures/{id}", serve = &Api::erasure;
  else if (v1 && n == 4 && path[1] == "customers" && path[3] == "timeline")
    route = "/v1/customers/{id}/timeline", serve = &Api::customer_part;
  else if (v1 && n == 4 && path[1] == "customers" && path[3] == "purchases")
    route = "/v1/customers/{id}/purchases", serve = &Api::customer_part;
  else if (v1 && n == 4 && path[1] == "customers" && path[3] == "work-orders")
    route = "/v1/customers/{id}/work-orders", serve = &Api::customer_part;
  else if (v1 && n == 4 && path[1] == "customers" && path[3] == "knowledge")
    route = "/v1/customers/{id}/knowledge", serve = &Api::customer_part;
  else if (v1 && n == 4 && path[1] == "customers" && path[3] == "event-types")
    route = "/v1/customers/{id}/event-types", serve = &Api::customer_part;
  else if (v1 && n == 4 && path[1] == "customers" && path[3] == "context")
    route = "/v1/customers/{id}/context", serve = &Api::context;
  else if (v1 && n == 2 && path[1] == "search") route = "/v1/search", serve = &Api::search;
  else if (v1 && n == 2 && path[1] == "events") route = "/v1/events", method = "POST", serve = &Api::intake;
  else if (v1 && n == 2 && path[1] == "stream") route = "/v1/stream", serve = &Api::stream;
  else if (n == 1 && path[0] == "mcp") route = "/mcp", method = "POST", serve = &Api::mcp;

  auto counted = std::make_shared<CountingResponder>(std::move(responder), context_.metrics, request_seconds_,
                                                     route ? route : "unmatched");
  const std::string_view name = route ? route : "";
  if (name != "/livez" && name != "/readyz" && !authorized(request)) {
    Response refusal = Response::error(401, context_.token && request.header("authorization")
                                                ? "the bearer token is not the one configured"
                                                : "this server needs Authorization: Bearer <CUSTOMERIQ_HTTP_TOKEN>");
    refusal.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"customeriq\"");
    return counted->respond(std::move(refusal));
  }
  if (!route) return counted->respond(Response::error(404, "no route " + request.path));
  if (request.method != method) {
    const bool profile = name == "/v1/customers/{id}";
    Response refusal = Response::error(405, std::string(route) + " takes " + (profile ? "GET or DELETE" : method) +
                                                ", not " + request.method);
    refusal.headers.emplace_back("Allow", profile ? "GET, DELETE" : method);
    return counted->respond(std::move(refusal));
  }
  try {
    if (name == "/livez") {
      allow_parameters(request, {});
      return counted->respond(Response::json(200, {{"status", "ok"}}));
    }
    if (name == "/readyz") {
      allow_parameters(request, {});
      const Readiness readiness = context_.readiness();
      return counted->respond(Response::json(readiness.ready ? 200 : 503,
                                             {{"status", readiness.ready ? "ready" : "not_ready"},
                                              {"checks", readiness.checks}}));
    }
    if (name == "/metrics") {
      allow_parameters(request, {});
      Response metrics;
      metrics.content_type = "text/plain; version=0.0.4; charset=utf-8";
      metrics.body = context_.metrics.render();
      return counted->respond(std::move(metrics));
    }
    (this->*serve)(request, counted);
  } catch (const RequestError& refusal) {
    counted->respond(Response::error(refusal.status, refusal.what()));
  }
}

void Api::read(std::shared_ptr<Responder> responder, std::function<Response(StoreReader&)> work) {
  const auto timeout = context_.read_timeout;
  const bool queued = context_.reads.submit([responder, work = std::move(work), timeout](StoreReader& reader) {
    const StoreReader::Deadline deadline(reader, timeout);
    try {
      responder->respond(work(reader));
    } catch (const RequestError& refusal) {
      responder->respond(Response::error(refusal.status, refusal.what()));
    } catch (const std::invalid_argument& refusal) {
      responder->respond(Response::error(400, refusal.what()));
    } catch (const std::exception& failure) {
      if (deadline.passed()) {
        spdlog::warn("[HTTP] A read was stopped after {} ms (CUSTOMERIQ_HTTP_READ_TIMEOUT_MS)", timeout.count());
        return responder->respond(Response::error(
            503, "the read took longer than the " + std::to_string(timeout.count()) +
                     " ms CUSTOMERIQ_HTTP_READ_TIMEOUT_MS allows: narrow it, or retry"));
      }
      spdlog::warn("[HTTP] A read failed: {}", failure.what());
      responder->respond(Response::error(503, std::string("the database could not be read: ") + failure.what()));
    }
  });
  if (!queued) responder->respond(Response::error(503, "too many requests in progress: retry shortly"));
}

void Api::customers(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {"q", "email", "updated_since", "limit", "cursor"});
  if (auto text = text_parameter(request, "q")) {
    if (request.query_value("email") || request.query_value("updated_since") || request.query_value("cursor"))
      bad_request("q cannot be combined with email, updated_since or cursor");
    if (text->find_first_not_of(" \t\r\n") == std::string::npos)
      bad_request("q must hold an id, an email, a phone number, a name or a word");
    const auto limit = integer_parameter(request, "limit", 1, 50).value_or(10);
    return read(responder, [text = *text, limit](StoreReader& reader) {
      return Response::json(200, items(reader.find_customers(text, static_cast<std::size_t>(limit))));
    });
  }
  if (auto email = text_parameter(request, "email")) {
    if (request.query_value("updated_since") || request.query_value("cursor"))
      bad_request("email cannot be combined with updated_since or cursor");
    return read(responder, [email = *email](StoreReader& reader) {
      return Response::json(200, items(reader.customers_by_email(email)));
    });
  }
  const auto since = integer_parameter(request, "updated_since", 0, 253402300799);
  if (!since) bad_request("/v1/customers needs q=TEXT, email=ADDRESS, or updated_since=UNIX_SECONDS (with limit and cursor)");
  const auto limit = integer_parameter(request, "limit", 1, 1000).value_or(100);
  const auto cursor = text_parameter(request, "cursor").value_or("");
  read(responder, [since = *since, limit, cursor](StoreReader& reader) {
    return Response::json(200, reader.customers_updated_since(since, static_cast<std::size_t>(limit), cursor));
  });
}

void Api::customer(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {"timeline_limit", "raw"});
  ProfileOptions options;
  options.timeline_limit = static_cast<std::size_t>(integer_parameter(request, "timeline_limit", 0, 10000).value_or(100));
  options.include_raw_event_data = boolean_parameter(request, "raw");
  read(responder, [id = request.segments[2], options](StoreReader& reader) {
    auto profile = reader.profile(id, options);
    if (profile) return Response::json(200, *profile);
    if (auto survivor = merged_into(reader.database(), id))
      return Response::json(200, {{"id", id}, {"merged_into", *survivor}});
    return not_found_customer(id);
  });
}

void Api::customer_part(Request& request, std::shared_ptr<Responder> responder) {
  const std::string id = request.segments[2];
  const std::string part = request.segments[3];
  if (part == "timeline") {
    allow_parameters(request, {"limit", "cursor", "types", "since", "until"});
    TimelineQuery query;
    query.limit = static_cast<std::size_t>(integer_parameter(request, "limit", 1, 500).value_or(50));
    query.cursor = text_parameter(request, "cursor").value_or("");
    query.types = list_parameter(request, "types");
    query.since = integer_parameter(request, "since", 0, 253402300799);
    query.until = integer_parameter(request, "until", 0, 253402300799);
    return read(responder, [id, query](StoreReader& reader) {
      auto page = reader.timeline(id, query);
      return page ? Response::json(200, *page) : not_found_customer(id);
    });
  }
  if (part == "event-types") {
    allow_parameters(request, {});
    return read(responder, [id](StoreReader& reader) {
      auto types = reader.event_types(id);
      return types ? Response::json(200, *types) : not_found_customer(id);
    });
  }
  if (part == "work-orders") {
    allow_parameters(request, {"status"});
    return read(responder, [id, status = text_parameter(request, "status")](StoreReader& reader) {
      auto orders = reader.work_orders(id, status);
      return orders ? Response::json(200, items(*orders)) : not_found_customer(id);
    });
  }
  allow_parameters(request, {});
  read(responder, [id, part](StoreReader& reader) {
    auto rows = part == "purchases" ? reader.purchases(id) : reader.knowledge(id);
    return rows ? Response::json(200, items(*rows)) : not_found_customer(id);
  });
}

void Api::context(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {"max_chars", "format"});
  ContextOptions options;
  options.max_chars = static_cast<std::size_t>(
      integer_parameter(request, "max_chars", kMinContextChars, kMaxContextCharsOverHttp).value_or(kDefaultContextChars));
  const std::string format = text_parameter(request, "format").value_or("json");
  if (format != "json" && format != "markdown")
    bad_request("format must be json or markdown, got '" + format.substr(0, 40) + "'");
  read(responder, [id = request.segments[2], options, markdown = format == "markdown"](StoreReader& reader) {
    const auto document = build_context_document(reader, id, options);
    if (!document) return not_found_customer(id);
    if (!markdown) return Response::json(200, document->to_json());
    Response response;
    response.content_type = "text/markdown; charset=utf-8";
    response.body = document->text;
    return response;
  });
}

void Api::search(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {"q", "customer_id", "limit", "fts"});
  const auto query = text_parameter(request, "q");
  if (!query || query->find_first_not_of(" \t\r\n") == std::string::npos)
    bad_request("q must hold the words to search for");
  SearchOptions options;
  options.customer_id = text_parameter(request, "customer_id");
  options.limit = static_cast<std::size_t>(integer_parameter(request, "limit", 1, 100).value_or(20));
  options.fts_syntax = boolean_parameter(request, "fts");
  read(responder, [query = *query, options](StoreReader& reader) {
    return Response::json(200, items(reader.search(query, options)));
  });
}

namespace {

// application/json or application/<anything>+json, with or without parameters.
bool is_json_media_type(std::string_view type) {
  const std::string essence = ascii_lower(type.substr(0, type.find(';')));
  const auto last = essence.find_last_not_of(" \t");
  const std::string_view name = std::string_view(essence).substr(0, last == std::string::npos ? 0 : last + 1);
  return name == "application/json" || (name.starts_with("application/") && name.ends_with("+json"));
}

}  // namespace

void Api::intake(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {});
  if (request.body.size() > context_.max_event_bytes) {
    throw RequestError(413, "the event is " + std::to_string(request.body.size()) + " bytes, over the limit of " +
                                std::to_string(context_.max_event_bytes) + " (limits.max_event_bytes)");
  }
  // Forms, text/plain and untyped bodies are what a web page may POST to
  // another site without asking first; demanding JSON turns any cross-site
  // POST into a CORS preflight, which this server never grants.
  const std::string* type = request.header("content-type");
  if (!type || !is_json_media_type(*type)) {
    throw RequestError(415, "an event is sent as Content-Type: application/json, not " +
                                (type ? "'" + excerpt(*type, 60) + "'" : std::string("without a Content-Type")));
  }
  RawMessage message;
  message.bytes = request.body;
  message.subject = "http:/v1/events";
  if (const std::string* key = request.header("idempotency-key")) message.headers.emplace_back("Idempotency-Key", *key);
  ReadPool& intake = context_.intake;
  message.ack = [responder, &intake, payload = request.body](Outcome outcome) {
    switch (outcome) {
      case Outcome::applied:
      case Outcome::duplicate:
        return responder->respond(Response::json(200, {{"outcome", to_string(outcome)}, {"reason", nullptr}}));
      case Outcome::suppressed:
        return responder->respond(Response::json(
            200, {{"outcome", "suppressed"}, {"reason", "the customer was erased: the event is not stored"}}));
      case Outcome::retry_later:
        return responder->respond(
            Response::error(503, "the event was not committed (the database is busy or cannot be written): retry"));
      case Outcome::dead_lettered:
        if (!intake.submit([responder, payload](StoreReader& reader) {
              responder->respond(Response::json(
                  200, {{"outcome", "dead_lettered"}, {"reason", dead_letter_reason(reader, payload)}}));
            })) {
          responder->respond(Response::json(200, {{"outcome", "dead_lettered"}, {"reason", nullptr}}));
        }
        return;
    }
  };
  EventSink& events = context_.events;
  auto submitted = std::make_shared<RawMessage>(std::move(message));
  if (!intake.submit([&events, submitted](StoreReader&) { events.submit(std::move(*submitted)); }))
    responder->respond(Response::error(503, "too many events in progress: retry shortly"));
}

void Api::stream(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {"customer_id", "last_event_id"});
  std::optional<std::int64_t> last_event_id = integer_parameter(request, "last_event_id", 0, INT64_MAX);
  if (const std::string* header = request.header("last-event-id"); header && !header->empty()) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(header->data(), header->data() + header->size(), value);
    if (error != std::errc() || end != header->data() + header->size() || value < 0)
      bad_request("Last-Event-ID must be a change sequence number, got '" + header->substr(0, 40) + "'");
    last_event_id = value;
  }
  auto source = std::make_shared<ChangeStream>(context_.feed, context_.reads,
                                               last_event_id.value_or(context_.feed.latest_seq()),
                                               text_parameter(request, "customer_id"));
  {
    std::lock_guard lock(streams_mutex_);
    std::erase_if(streams_, [](const auto& weak) { return weak.expired(); });
    streams_.push_back(source);
  }
  responder->stream(std::move(source));
}

namespace {

// The host[:port] an Origin names, lower-case, without its scheme's
// default port; "" for an opaque origin ("null") or one that is not a URL.
std::string origin_authority(std::string_view origin) {
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return "";
  const std::string scheme = ascii_lower(origin.substr(0, scheme_end));
  std::string authority = ascii_lower(origin.substr(scheme_end + 3));
  if (authority.empty() || authority.find('/') != std::string::npos) return "";
  if (scheme == "http" && authority.ends_with(":80")) authority.resize(authority.size() - 3);
  if (scheme == "https" && authority.ends_with(":443")) authority.resize(authority.size() - 4);
  return authority;
}

Response mcp_refusal(int status, std::string_view message) {
  return Response::json(status, mcp::error_response(nullptr, mcp::kInvalidRequest, message));
}

// 202 without a body: a notification or a response, taken.
Response mcp_accepted() {
  Response accepted;
  accepted.status = 202;
  accepted.content_type.clear();
  return accepted;
}

}  // namespace

// The Streamable HTTP transport, answering with JSON (never a stream) and
// keeping no session: each POST is one message and its answer.
void Api::mcp(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {});
  // A web page the browser shows from another host must not reach the
  // tools (DNS rebinding included): only this server's own origin, or none.
  if (const std::string* origin = request.header("origin")) {
    const std::string* host = request.header("host");
    std::string own = host ? ascii_lower(*host) : std::string();
    if (own.ends_with(":80")) own.resize(own.size() - 3);
    if (const std::string authority = origin_authority(*origin); authority.empty() || authority != own)
      return responder->respond(mcp_refusal(403, "requests from the origin '" + excerpt(*origin, 80) +
                                                     "' are refused: /mcp answers its own origin only"));
  }
  if (const std::string* version = request.header("mcp-protocol-version")) {
    const auto& versions = mcp::supported_protocol_versions();
    if (std::find(versions.begin(), versions.end(), *version) == versions.end()) {
      std::string list;
      for (const auto& known : versions) list += (list.empty() ? "" : ", ") + known;
      return responder->respond(mcp_refusal(400, "MCP-Protocol-Version '" + excerpt(*version, 40) +
                                                     "' is not one this server speaks (" + list + ")"));
    }
  }
  const std::string* type = request.header("content-type");
  if (!type || !is_json_media_type(*type))
    return responder->respond(mcp_refusal(415, "an MCP message is sent as Content-Type: application/json"));
  if (const std::string* accept = request.header("accept")) {
    const std::string accepted = ascii_lower(*accept);
    if (accepted.find("application/json") == std::string::npos && accepted.find("*/*") == std::string::npos &&
        accepted.find("application/*") == std::string::npos)
      return responder->respond(mcp_refusal(406, "/mcp answers application/json: the Accept header must allow it"));
  }
  auto [message, error] = mcp::parse_message(request.body);
  if (error) return responder->respond(Response::json(400, *error));
  if (!mcp::McpServer::expects_answer(message)) return responder->respond(mcp_accepted());
  // The server keeps no state: a copy outlives this Api on the read pool.
  read(responder, [server = mcp_server_, message = std::move(message)](StoreReader& reader) {
    auto answer = server.handle(message, reader);
    return answer ? Response::json(200, *answer) : mcp_accepted();
  });
}

namespace {

std::int64_t id_segment(const std::string& text, const char* what) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1)
    bad_request(std::string(what) + " must be a positive integer, got '" + excerpt(text, 40) + "'");
  return value;
}

}  // namespace

// Writes on a connection of its own, on the lifecycle pool; the writer's
// batches and these take turns at SQLite's write lock.
void Api::write(std::shared_ptr<Responder> responder, std::function<Json(SQLite::Database&)> work) {
  const bool queued = context_.lifecycle.submit([responder, work = std::move(work), database = context_.database](StoreReader&) {
    try {
      auto db = open_store_for_writing(database);
      responder->respond(Response::json(200, work(*db)));
    } catch (const LifecycleError& refusal) {
      responder->respond(Response::error(refusal.status, refusal.what()));
    } catch (const std::exception& failure) {
      spdlog::warn("[HTTP] A lifecycle operation failed: {}", failure.what());
      responder->respond(Response::error(503, std::string("the database could not be written: ") + failure.what()));
    }
  });
  if (!queued) responder->respond(Response::error(503, "too many merges or erasures in progress: retry shortly"));
}

void Api::merge(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {});
  const std::string* type = request.header("content-type");
  if (!type || !is_json_media_type(*type))
    throw RequestError(415, "a merge is sent as Content-Type: application/json with {\"into\": ID}");
  const Json body = Json::parse(request.body, nullptr, false);
  if (!body.is_object()) bad_request("the body must be a JSON object {\"into\": ID, \"dry_run\": false}");
  for (const auto& [key, value] : body.items())
    if (key != "into" && key != "dry_run") bad_request("unknown field '" + excerpt(key, 40) + "' (into, dry_run)");
  const auto into = body.find("into");
  if (into == body.end() || !into->is_string() || into->get_ref<const std::string&>().empty())
    bad_request("into must be the id of the customer to merge into");
  MergeOptions options;
  if (const auto dry_run = body.find("dry_run"); dry_run != body.end()) {
    if (!dry_run->is_boolean()) bad_request("dry_run must be true or false");
    options.dry_run = dry_run->get<bool>();
  }
  write(responder, [from = request.segments[2], into = into->get<std::string>(), options](SQLite::Database& db) {
    return merge_customers(db, from, into, options);
  });
}

void Api::undo_merge(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {});
  const std::int64_t merge_id = id_segment(request.segments[2], "the merge id");
  write(responder, [merge_id](SQLite::Database& db) { return unmerge(db, merge_id); });
}

void Api::erase(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {});
  write(responder, [id = request.segments[2]](SQLite::Database& db) { return erase_customer(db, id); });
}

void Api::erasure(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {});
  const std::int64_t erasure_id = id_segment(request.segments[2], "the erasure id");
  read(responder, [erasure_id](StoreReader& reader) {
    auto receipt = erasure_receipt(reader.database(), erasure_id);
    return receipt ? Response::json(200, *receipt)
                   : Response::error(404, "no erasure with id " + std::to_string(erasure_id));
  });
}

void Api::audit(Request& request, std::shared_ptr<Responder> responder) {
  allow_parameters(request, {"limit", "before"});
  const auto limit = integer_parameter(request, "limit", 1, 1000).value_or(100);
  const auto before = integer_parameter(request, "before", 1, INT64_MAX);
  read(responder, [id = request.segments[2], limit, before](StoreReader& reader) {
    auto trail = customer_audit(reader.database(), id, static_cast<std::size_t>(limit), before);
    return trail ? Response::json(200, *trail)
                 : Response::error(404, "no customer, audit row or erasure for id '" + id + "'");
  });
}

void Api::feed_advanced() {
  std::vector<std::shared_ptr<ChangeStream>> live;
  {
    std::lock_guard lock(streams_mutex_);
    std::erase_if(streams_, [](const auto& weak) { return weak.expired(); });
    for (const auto& weak : streams_)
      if (auto stream = weak.lock()) live.push_back(std::move(stream));
  }
  for (const auto& stream : live) stream->feed_advanced();
}

}  // namespace customeriq::http
