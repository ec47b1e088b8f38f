// HttpServer: the asynchronous HTTP/1.1 server (Boost.Beast, kept inside
// http_server.cpp). One I/O thread serves every connection; routes answer
// through a Responder from any thread, so nothing slow runs on it, and an
// idle Server-Sent Events stream costs no thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <string>

#include "http/http_message.hpp"

namespace customeriq::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: a free port (see HttpServer::port)
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  // A request must arrive whole within it; an idle keep-alive connection
  // is closed after it.
  std::chrono::milliseconds request_timeout{30'000};
  // A response or stream write that does not finish within it drops the
  // client: a slow stream reader is cut off (it resumes with Last-Event-ID)
  // rather than holding memory.
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds stream_heartbeat{15'000};  // ": ping" on an idle stream
  std::size_t stream_chunk_bytes = 256 << 10;          // asked of a stream source per write
};

// One request's bytes as a connection reads them, through the same parser,
// limits and target decoding: the Request its route gets, nullopt when the
// bytes are not a whole request yet (the server waits for more), or
// RequestError with the status the server answers instead. For fuzzing and
// tests; the server itself reads asynchronously.
std::optional<Request> parse_request(std::string_view bytes, const ServerOptions& options);

class HttpServer {
 public:
  // `handler` takes every complete request, on the I/O thread, and must not
  // block: it answers through the Responder, at once or from another thread.
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O thread; throws std::runtime_error naming the
  // address when it cannot bind.
  void start();
  std::uint16_t port() const;  // the bound port, after start()

  // Stops accepting, closes every stream, waits up to `grace` for requests
  // in flight to be answered, then closes what is left and joins.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  std::size_t open_connections() const;
  std::size_t open_streams() const;

 private:
  friend class Session;  // a connection, in http_server.cpp
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace customeriq::http
