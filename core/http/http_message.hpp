// What the HTTP server hands a route and what a route answers, free of
// Beast so routes compile without it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace customeriq::http {

using Json = nlohmann::json;

struct Request {
  std::string method;  // GET, POST, ...
  std::string target;  // as received: /v1/customers/a%20b?limit=5
  std::string path;    // percent-decoded, without the query
  std::vector<std::string> segments;  // path split at '/', each percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string request_id;
  std::string remote_address;

  const std::string* header(std::string_view lower_case_name) const;
  const std::string* query_value(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(int status, const Json& body);
  // {"error":{"code","message"}}, code from the status (bad_request, ...).
  static Response error(int status, std::string_view message);
};

// The machine-readable code of an error status: 400 bad_request, ...
const char* error_code(int status);

// Thrown by a route for a request it refuses; the server answers
// Response::error(status, message).
struct RequestError : std::runtime_error {
  RequestError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

// A Server-Sent Events stream, owned by the server's I/O thread. A route
// that opens one hands it a source of frames.
class EventStreamSource : public std::enable_shared_from_this<EventStreamSource> {
 public:
  virtual ~EventStreamSource() = default;
  // Asks for the text that follows (whole SSE frames, at most about
  // max_bytes). `deliver` is called once, on any thread, with the text ("" when
  // nothing is new; the stream then waits for `wake`) and whether the
  // stream must end after it.
  virtual void next(std::size_t max_bytes, std::function<void(std::string text, bool end)> deliver) = 0;
  // Called by the source's owner when new text may be available; the
  // stream then asks next() again once it is idle.
  void set_wake(std::function<void()> wake) {
    std::lock_guard lock(wake_mutex_);
    wake_ = std::move(wake);
  }

 protected:
  void wake() const {
    std::lock_guard lock(wake_mutex_);
    if (wake_) wake_();
  }

 private:
  mutable std::mutex wake_mutex_;
  std::function<void()> wake_;
};

// How a route answers: once, from any thread.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void respond(Response response) = 0;
  // 200 text/event-stream; the stream lives until the client leaves, the
  // source ends it, the client is too slow, or the server stops.
  virtual void stream(std::shared_ptr<EventStreamSource> source) = 0;
};

using Handler = std::function<void(Request&, std::shared_ptr<Responder>)>;

// Decodes %XX (and never '+': paths are not forms); nullopt for a bad escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// Equal strings in a time that does not depend on where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace customeriq::http
