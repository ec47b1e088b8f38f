#include "http/http_server.hpp"

#include <atomic>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "text.hpp"

namespace customeriq::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

bool is_valid_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

std::string new_request_id() {
  static std::atomic<std::uint64_t> counter{std::random_device{}()};
  char text[17];
  std::snprintf(text, sizeof text, "%016llx",
                static_cast<unsigned long long>(counter.fetch_add(0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL));
  return text;
}

// Splits the target into decoded path segments and query pairs; what is
// wrong with it (a bad percent escape, text that is not UTF-8 once decoded),
// or empty. Every route takes the decoded text as UTF-8.
std::string parse_target(Request& request) {
  const std::string_view target = request.target;
  const auto question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  const std::string bad_path = "the request target is not a valid path";
  if (raw_path.empty() || raw_path.front() != '/') return bad_path;
  auto path = percent_decode(raw_path);
  if (!path) return bad_path + " (a bad percent escape)";
  if (!is_valid_utf8(*path)) return "the request path is not UTF-8 once percent-decoded";
  request.path = std::move(*path);
  for (std::size_t start = 1; start <= raw_path.size();) {
    std::size_t end = raw_path.find('/', start);
    if (end == std::string_view::npos) end = raw_path.size();
    auto segment = percent_decode(raw_path.substr(start, end - start));
    if (!segment) return bad_path + " (a bad percent escape)";
    request.segments.push_back(std::move(*segment));
    start = end + 1;
  }
  if (!request.segments.empty() && request.segments.back().empty()) request.segments.pop_back();
  if (question == std::string_view::npos) return {};
  const std::string_view query = target.substr(question + 1);
  for (std::size_t start = 0; start < query.size();) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const auto equals = pair.find('=');
      auto name = percent_decode(pair.substr(0, equals), true);
      auto value = percent_decode(equals == std::string_view::npos ? "" : pair.substr(equals + 1), true);
      if (!name || !value) return bad_path + " (a bad percent escape in the query)";
      if (!is_valid_utf8(*name) || !is_valid_utf8(*value))
        return "the query parameter '" + to_valid_utf8(excerpt(*name, 40)) + "' is not UTF-8 once percent-decoded";
      request.query.emplace_back(std::move(*name), std::move(*value));
    }
    start = end + 1;
  }
  return {};
}

// The Request a route gets for a parsed message (remote address aside).
Request request_from(bhttp::request<bhttp::string_body>& message) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(message.body());
  const std::string* incoming_id = request.header("request-id");
  if (!incoming_id) incoming_id = request.header("x-request-id");
  request.request_id = incoming_id && is_valid_request_id(*incoming_id) ? *incoming_id : new_request_id();
  return request;
}

std::string body_too_large(std::uint64_t length, const ServerOptions& options) {
  return "the body is " + std::to_string(length) + " bytes, more than the " + std::to_string(options.max_body_bytes) +
         " this server takes";
}

// The answer to a request the parser refused; nullopt when the connection
// just closes (the client left, or the bytes are not HTTP at all).
std::optional<RequestError> refusal_of(beast::error_code error, const ServerOptions& options) {
  if (error == bhttp::error::body_limit) {
    return RequestError(413, "the body is larger than the " + std::to_string(options.max_body_bytes) +
                                 " bytes this server takes");
  }
  if (error == bhttp::error::header_limit) {
    // The limit counts the request line too: a long target lands here as well.
    return RequestError(431, "the request line and headers are larger than the " + std::to_string(options.max_header_bytes) +
                                 " bytes this server takes");
  }
  if (error.category() == bhttp::make_error_code(bhttp::error::bad_target).category())
    return RequestError(400, "malformed HTTP request: " + error.message());
  return std::nullopt;
}

void limit(bhttp::request_parser<bhttp::string_body>& parser, const ServerOptions& options) {
  parser.body_limit(options.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
}

}  // namespace

std::optional<Request> parse_request(std::string_view bytes, const ServerOptions& options) {
  bhttp::request_parser<bhttp::string_body> parser;
  limit(parser, options);
  parser.eager(true);
  std::size_t used = 0;
  bool length_checked = false;
  while (!parser.is_done()) {
    beast::error_code error;
    const std::size_t taken = parser.put(net::buffer(bytes.data() + used, bytes.size() - used), error);
    used += taken;
    const bool needs_more = error == bhttp::error::need_more || (!error && taken == 0);
    if (error && !needs_more) {
      if (auto refusal = refusal_of(error, options)) throw std::move(*refusal);
      throw RequestError(400, "not HTTP (the server closes the connection): " + error.message());
    }
    if (parser.is_header_done() && !length_checked) {
      length_checked = true;
      if (const auto length = parser.content_length(); length && *length > options.max_body_bytes)
        throw RequestError(413, body_too_large(*length, options));
    }
    // need_more: the parser took what it could of the rest (a header is
    // only taken whole), so the server would wait for more bytes.
    if (needs_more || (used == bytes.size() && !parser.is_done())) return std::nullopt;
  }
  auto message = parser.release();
  Request request = request_from(message);
  if (std::string problem = parse_target(request); !problem.empty()) throw RequestError(400, problem);
  return request;
}

class Session;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(ServerOptions options, Handler handler) : options(std::move(options)), handler(std::move(handler)) {}

  void accept();

  ServerOptions options;
  Handler handler;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint16_t bound_port = 0;
  bool stopping = false;  // I/O thread only
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // I/O thread only
  std::atomic<std::size_t> connections{0}, streams{0};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<HttpServer::Impl> server, tcp::socket socket)
      : server_(std::move(server)), stream_(std::move(socket)), heartbeat_(stream_.get_executor()) {
    beast::error_code ignored;
    const auto endpoint = stream_.socket().remote_endpoint(ignored);
    remote_address_ = ignored ? std::string() : endpoint.address().to_string();
    ++server_->connections;
  }
  ~Session() {
    --server_->connections;
    if (source_) --server_->streams;
  }

  void start() {
    server_->sessions[this] = weak_from_this();
    read_request();
  }

  // Called by the server when it stops: a stream or an idle connection
  // closes now; a request being handled is answered first (see send()).
  void stop(bool force) {
    if (source_ || !handling_ || force) close();
  }

  void send(Response response);
  void start_stream(std::shared_ptr<EventStreamSource> source);
  void wake_stream();

 private:
  void read_request();
  void on_header(beast::error_code error);
  void read_body();
  void on_request(beast::error_code error);
  void handle(bhttp::request<bhttp::string_body> message);
  void refuse(int status, const std::string& message);
  void on_written(beast::error_code error, bool close_after);
  void pump_stream();
  void on_stream_text(std::string text, bool end);
  void write_stream(std::string text);
  void schedule_heartbeat();
  void watch_stream_close();
  void close();

  std::shared_ptr<HttpServer::Impl> server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_address_;
  std::string request_id_;
  unsigned request_version_ = 11;
  bool keep_alive_ = false;
  bool head_only_ = false;  // a HEAD request: send the headers of its GET answer only
  bool handling_ = false;  // a request was read and is not answered yet
  bool closed_ = false;

  // Stream mode.
  std::shared_ptr<EventStreamSource> source_;
  net::steady_timer heartbeat_;
  std::string stream_out_;
  bool writing_ = false, asking_ = false, woken_while_asking_ = false, ending_ = false;
  std::chrono::steady_clock::time_point last_write_;
  char discard_[512];
};

namespace {

class SessionResponder final : public Responder {
 public:
  explicit SessionResponder(std::shared_ptr<Session> session, net::any_io_executor executor)
      : session_(std::move(session)), executor_(std::move(executor)) {}
  ~SessionResponder() override {
    if (!answered_.exchange(true)) {
      net::post(executor_, [session = std::move(session_)] {
        session->send(Response::error(500, "the request was not answered"));
      });
    }
  }
  void respond(Response response) override {
    if (answered_.exchange(true)) return;
    net::post(executor_, [session = session_, response = std::move(response)]() mutable {
      session->send(std::move(response));
    });
  }
  void stream(std::shared_ptr<EventStreamSource> source) override {
    if (answered_.exchange(true)) return;
    net::post(executor_, [session = session_, source = std::move(source)]() mutable {
      session->start_stream(std::move(source));
    });
  }

 private:
  std::shared_ptr<Session> session_;
  net::any_io_executor executor_;
  std::atomic<bool> answered_{false};
};

}  // namespace

void Session::read_request() {
  parser_.emplace();
  limit(*parser_, server_->options);
  stream_.expires_after(server_->options.request_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code error, std::size_t) {
                             self->on_header(error);
                           });
}

void Session::on_header(beast::error_code error) {
  if (error) return on_request(error);
  const auto& message = parser_->get();
  request_version_ = message.version();
  request_id_.clear();
  if (const auto content_length = parser_->content_length();
      content_length && *content_length > server_->options.max_body_bytes) {
    return refuse(413, body_too_large(*content_length, server_->options));
  }
  if (beast::iequals(message[bhttp::field::expect], "100-continue")) {
    auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, message.version());
    bhttp::async_write(stream_, *interim, [self = shared_from_this(), interim](beast::error_code error, std::size_t) {
      if (error) return self->close();
      self->read_body();
    });
    return;
  }
  read_body();
}

void Session::read_body() {
  bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code error, std::size_t) {
    self->on_request(error);
  });
}

void Session::on_request(beast::error_code error) {
  if (error == bhttp::error::end_of_stream || error == net::error::operation_aborted ||
      error == beast::error::timeout || error == net::error::eof || error == net::error::connection_reset) {
    return close();
  }
  if (error) {
    if (auto refusal = refusal_of(error, server_->options)) return refuse(refusal->status, refusal->what());
    return close();
  }
  handle(parser_->release());
}

void Session::handle(bhttp::request<bhttp::string_body> message) {
  Request request = request_from(message);
  request.remote_address = remote_address_;
  request_id_ = request.request_id;
  request_version_ = message.version();
  keep_alive_ = message.keep_alive();
  // HEAD is GET without the body: every GET route answers it.
  head_only_ = message.method() == bhttp::verb::head;
  if (head_only_) request.method = "GET";
  handling_ = true;
  stream_.expires_never();
  if (std::string problem = parse_target(request); !problem.empty()) return send(Response::error(400, problem));
  try {
    server_->handler(request, std::make_shared<SessionResponder>(shared_from_this(), stream_.get_executor()));
  } catch (const RequestError& refusal) {
    send(Response::error(refusal.status, refusal.what()));
  } catch (const std::exception& failure) {
    spdlog::error("[HTTP] {} {} failed: {}", request.method, request.path, failure.what());
    send(Response::error(500, "internal error"));
  }
}

void Session::refuse(int status, const std::string& message) {
  keep_alive_ = false;
  head_only_ = false;
  handling_ = true;
  if (request_id_.empty()) request_id_ = new_request_id();
  send(Response::error(status, message));
}

void Session::send(Response response) {
  if (closed_ || source_) return;
  auto message = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(response.status), request_version_);
  message->set(bhttp::field::server, "customeriq");
  if (!response.content_type.empty()) message->set(bhttp::field::content_type, response.content_type);
  message->set("Request-Id", request_id_);
  for (const auto& [name, value] : response.headers) message->set(name, value);
  message->keep_alive(keep_alive_ && !server_->stopping);
  message->body() = std::move(response.body);
  message->prepare_payload();
  if (head_only_) {
    const std::size_t length = message->body().size();
    message->body().clear();
    message->content_length(length);
  }
  stream_.expires_after(server_->options.write_timeout);
  bhttp::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code error, std::size_t) {
    self->on_written(error, message->need_eof());
  });
}

void Session::on_written(beast::error_code error, bool close_after) {
  handling_ = false;
  if (error || close_after || server_->stopping) return close();
  read_request();
}

void Session::start_stream(std::shared_ptr<EventStreamSource> source) {
  if (closed_) return;
  if (head_only_) {  // the stream's headers; dropping the source unsubscribes it
    Response headers;
    headers.content_type = "text/event-stream";
    headers.headers = {{"Cache-Control", "no-cache"}};
    keep_alive_ = false;
    return send(std::move(headers));
  }
  source_ = std::move(source);
  ++server_->streams;
  handling_ = false;
  std::weak_ptr<Session> weak = weak_from_this();
  const auto executor = stream_.get_executor();
  source_->set_wake([weak, executor] {
    net::post(executor, [weak] {
      if (auto self = weak.lock()) self->wake_stream();
    });
  });
  stream_.expires_never();
  watch_stream_close();
  std::string head = "HTTP/1.1 200 OK\r\n"
                     "Server: customeriq\r\n"
                     "Content-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\n"
                     "X-Accel-Buffering: no\r\n"
                     "Request-Id: " + request_id_ + "\r\n"
                     "Connection: close\r\n\r\n"
                     "retry: 2000\n\n";
  write_stream(std::move(head));
  schedule_heartbeat();
}

// A stream client sends nothing after its request: a read that ends means
// it has gone.
void Session::watch_stream_close() {
  stream_.socket().async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code error, std::size_t) {
    if (error) return self->close();
    self->watch_stream_close();
  });
}

void Session::wake_stream() {
  if (closed_ || !source_) return;
  if (asking_) woken_while_asking_ = true;
  else if (!writing_) pump_stream();
}

void Session::pump_stream() {
  if (closed_ || writing_ || asking_ || ending_) return;
  asking_ = true;
  woken_while_asking_ = false;
  std::weak_ptr<Session> weak = weak_from_this();
  const auto executor = stream_.get_executor();
  source_->next(server_->options.stream_chunk_bytes, [weak, executor](std::string text, bool end) {
    net::post(executor, [weak, text = std::move(text), end]() mutable {
      if (auto self = weak.lock()) self->on_stream_text(std::move(text), end);
    });
  });
}

void Session::on_stream_text(std::string text, bool end) {
  asking_ = false;
  if (closed_) return;
  ending_ = end;
  if (!text.empty()) return write_stream(std::move(text));
  if (ending_) return close();
  if (woken_while_asking_) pump_stream();
}

void Session::write_stream(std::string text) {
  writing_ = true;
  stream_out_ = std::move(text);
  stream_.expires_after(server_->options.write_timeout);
  net::async_write(stream_, net::buffer(stream_out_), [self = shared_from_this()](beast::error_code error, std::size_t) {
    self->writing_ = false;
    self->last_write_ = std::chrono::steady_clock::now();
    if (error) {
      if (error == beast::error::timeout)
        spdlog::warn("[HTTP] Stream client {} too slow: disconnected (it may resume with Last-Event-ID)",
                     self->remote_address_);
      return self->close();
    }
    if (self->ending_) return self->close();
    self->pump_stream();
  });
}

void Session::schedule_heartbeat() {
  heartbeat_.expires_after(server_->options.stream_heartbeat);
  heartbeat_.async_wait([self = shared_from_this()](beast::error_code error) {
    if (error || self->closed_) return;
    if (!self->writing_ && !self->asking_ && std::chrono::steady_clock::now() - self->last_write_ >= self->server_->options.stream_heartbeat / 2)
      self->write_stream(": ping\n\n");
    self->schedule_heartbeat();
  });
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  server_->sessions.erase(this);
  heartbeat_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  if (source_) source_->set_wake(nullptr);
}

void HttpServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code error, tcp::socket socket) {
    if (self->stopping) return;
    if (!error) {
      std::make_shared<Session>(self, std::move(socket))->start();
    } else if (error != net::error::operation_aborted) {
      spdlog::warn("[HTTP] accept failed: {}", error.message());
    }
    if (self->acceptor.is_open()) self->accept();
  });
}

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

void HttpServer::start() {
  beast::error_code error;
  const auto address = net::ip::make_address(impl_->options.host, error);
  if (error) throw std::runtime_error("'" + impl_->options.host + "' is not an IP address");
  const tcp::endpoint endpoint(address, impl_->options.port);
  auto fail = [&](const char* what) {
    throw std::runtime_error(std::string("cannot ") + what + " " + impl_->options.host + ":" +
                             std::to_string(impl_->options.port) + ": " + error.message());
  };
  impl_->acceptor.open(endpoint.protocol(), error);
  if (error) fail("open");
  impl_->acceptor.set_option(net::socket_base::reuse_address(true), error);
  impl_->acceptor.bind(endpoint, error);
  if (error) fail("listen on");
  impl_->acceptor.listen(net::socket_base::max_listen_connections, error);
  if (error) fail("listen on");
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_] {
    for (;;) {
      try {
        impl->io.run();
        return;
      } catch (const std::exception& failure) {
        spdlog::error("[HTTP] I/O thread: {}", failure.what());
      }
    }
  });
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::stop(std::chrono::milliseconds grace) {
  if (!impl_->thread.joinable()) return;
  net::post(impl_->io, [impl = impl_] {
    impl->stopping = true;
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    auto sessions = impl->sessions;
    for (auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) session->stop(false);
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->connections.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  net::post(impl_->io, [impl = impl_] {
    auto sessions = impl->sessions;
    for (auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) session->stop(true);
    }
  });
  // Handlers may still hold sessions (a read in the pool): let their
  // answers arrive on a closed session, then stop.
  const auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (impl_->connections.load() > 0 && std::chrono::steady_clock::now() < drain_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  impl_->io.stop();
  impl_->thread.join();
  // What is still queued (answers to closed sessions) runs now, so the
  // sessions it holds are released.
  impl_->io.restart();
  impl_->io.poll();
}

std::size_t HttpServer::open_connections() const { return impl_->connections.load(); }
std::size_t HttpServer::open_streams() const { return impl_->streams.load(); }

}  // namespace customeriq::http
