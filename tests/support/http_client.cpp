#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace customeriq::test {
namespace {

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(error));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void send_all(int fd, const std::string& data) {
  for (std::size_t sent = 0; sent < data.size();) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
}

enum class ReadResult { data, timeout, end_of_stream };

// Appends what arrives before the deadline.
ReadResult read_chunk(int fd, std::string& buffer, std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  pollfd waiting{fd, POLLIN, 0};
  if (::poll(&waiting, 1, static_cast<int>(std::max<long long>(0, left.count()))) <= 0) return ReadResult::timeout;
  char chunk[65536];
  const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n <= 0) return ReadResult::end_of_stream;
  buffer.append(chunk, static_cast<std::size_t>(n));
  return ReadResult::data;
}

// False at end of stream or timeout.
bool read_some(int fd, std::string& buffer, std::chrono::steady_clock::time_point deadline) {
  return read_chunk(fd, buffer, deadline) == ReadResult::data;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string request_text(const std::string& method, const std::string& target, const std::string& body,
                         const HttpHeaders& headers) {
  std::string text = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_length = false, has_type = false;
  for (const auto& [name, value] : headers) {
    has_length |= lower(name) == "content-length";
    has_type |= lower(name) == "content-type";
    if (!value.empty()) text += name + ": " + value + "\r\n";  // an empty value: leave the header out
  }
  if (!has_type && !body.empty()) text += "Content-Type: application/json\r\n";
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT"))
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return text + "\r\n" + body;
}

// Parses "HTTP/1.1 200 OK" and the header lines of head (without the blank line).
void parse_head(const std::string& head, int& status, std::map<std::string, std::string>& headers) {
  const auto line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
    throw std::runtime_error("not an HTTP response: " + status_line);
  status = std::stoi(status_line.substr(9, 3));
  for (std::size_t start = line_end == std::string::npos ? head.size() : line_end + 2; start < head.size();) {
    auto end = head.find("\r\n", start);
    if (end == std::string::npos) end = head.size();
    const std::string line = head.substr(start, end - start);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      headers[lower(line.substr(0, colon))] = value;
    }
    start = end + 2;
  }
}

}  // namespace

const std::string& HttpReply::header(const std::string& lower_case_name) const {
  static const std::string none;
  const auto found = headers.find(lower_case_name);
  return found == headers.end() ? none : found->second;
}

struct HttpConnection::Impl {
  int fd = -1;
  std::chrono::milliseconds timeout;
  std::string buffer;
};

HttpConnection::HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->fd = connect_loopback(port);
  impl_->timeout = timeout;
}

HttpConnection::~HttpConnection() {
  if (impl_->fd >= 0) ::close(impl_->fd);
}

int HttpConnection::native_handle() const { return impl_->fd; }

HttpReply HttpConnection::request(const std::string& method, const std::string& target, const std::string& body,
                                  const HttpHeaders& headers) {
  try {
    send_all(impl_->fd, request_text(method, target, body, headers));
  } catch (const std::runtime_error&) {
    // A server may answer (413) and close before the whole body is sent:
    // its answer is still there to read.
  }
  const auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
  std::string& buffer = impl_->buffer;
  HttpReply reply;
  do {  // past interim responses (100 Continue)
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!read_some(impl_->fd, buffer, deadline))
        throw std::runtime_error("the server sent no complete response to " + method + " " + target);
    }
    reply = HttpReply{};
    parse_head(buffer.substr(0, head_end), reply.status, reply.headers);
    buffer.erase(0, head_end + 4);
  } while (reply.status >= 100 && reply.status < 200);
  if (reply.header("transfer-encoding").find("chunked") != std::string::npos)
    throw std::runtime_error("chunked responses are not expected from this server");
  // A HEAD response has the headers a GET would have, and no body.
  if (method == "HEAD") return reply;
  const std::string& length = reply.header("content-length");
  if (length.empty()) {
    while (read_some(impl_->fd, buffer, deadline)) {
    }
    reply.body = std::move(buffer);
    buffer.clear();
    return reply;
  }
  const std::size_t size = std::stoul(length);
  while (buffer.size() < size) {
    if (!read_some(impl_->fd, buffer, deadline))
      throw std::runtime_error("the response to " + method + " " + target + " ended early");
  }
  reply.body = buffer.substr(0, size);
  buffer.erase(0, size);
  return reply;
}

bool HttpConnection::closed_by_server() {
  pollfd waiting{impl_->fd, POLLIN, 0};
  if (::poll(&waiting, 1, 0) <= 0) return false;
  char byte;
  return ::recv(impl_->fd, &byte, 1, MSG_PEEK) == 0;
}

HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body, const HttpHeaders& headers) {
  HttpConnection connection(port);
  return connection.request(method, target, body, headers);
}

SseClient::SseClient(std::uint16_t port, const std::string& target, const HttpHeaders& headers) {
  fd_ = connect_loopback(port);
  send_all(fd_, request_text("GET", target, {}, headers));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!read_some(fd_, buffer_, deadline)) throw std::runtime_error("no response to GET " + target);
  }
  parse_head(buffer_.substr(0, head_end), status_, headers_);
  buffer_.erase(0, head_end + 4);
}

SseClient::~SseClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool SseClient::fill(std::chrono::steady_clock::time_point deadline) {
  if (ended_) return false;
  const ReadResult result = read_chunk(fd_, buffer_, deadline);
  ended_ = result == ReadResult::end_of_stream;
  return result == ReadResult::data;
}

std::optional<SseEvent> SseClient::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::size_t end;
    while ((end = buffer_.find("\n\n")) != std::string::npos) {
      const std::string block = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      SseEvent event;
      bool has_field = false;
      for (std::size_t start = 0; start <= block.size();) {
        auto line_end = block.find('\n', start);
        if (line_end == std::string::npos) line_end = block.size();
        const std::string line = block.substr(start, line_end - start);
        start = line_end + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          ++comments_;
          continue;
        }
        const auto colon = line.find(':');
        const std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "id") event.id = value, has_field = true;
        else if (field == "event") event.event = value, has_field = true;
        else if (field == "data") event.data += (event.data.empty() ? "" : "\n") + value, has_field = true;
      }
      if (has_field && (!event.data.empty() || !event.event.empty())) return event;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

}  // namespace customeriq::test
