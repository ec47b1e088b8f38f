// A small blocking HTTP/1.1 client for the tests and the bench: requests on
// a keep-alive connection, and a Server-Sent Events reader. 127.0.0.1 only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace customeriq::test {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;

  const std::string& header(const std::string& lower_case_name) const;  // "" when absent
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One keep-alive connection. Throws std::runtime_error when it cannot
// connect or the server closes the connection mid-response.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  HttpReply request(const std::string& method, const std::string& target, const std::string& body = {},
                    const HttpHeaders& headers = {});
  // Whether the server has closed this connection (a read sees end of stream).
  bool closed_by_server();
  int native_handle() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request on a connection of its own.
HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = {}, const HttpHeaders& headers = {});

struct SseEvent {
  std::string id, event, data;
};

// GET target as an event stream. The reply's status and headers are read
// at construction; next() reads the events that follow.
class SseClient {
 public:
  SseClient(std::uint16_t port, const std::string& target, const HttpHeaders& headers = {});
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  int status() const { return status_; }
  const std::map<std::string, std::string>& headers() const { return headers_; }
  // The next event (comments such as ": ping" are counted, not returned);
  // nullopt at the timeout or when the server ends the stream.
  std::optional<SseEvent> next(std::chrono::milliseconds timeout);
  std::size_t comments_seen() const { return comments_; }
  bool ended() const { return ended_; }
  int native_handle() const { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string buffer_;
  std::size_t comments_ = 0;
  bool ended_ = false;
};

}  // namespace customeriq::test
