#include "sources/nats/nats_connection.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include "backoff.hpp"
#include "sources/nats/nats_support.hpp"

namespace customeriq {
namespace {

using namespace std::chrono_literals;

// After every server of the list failed once: 250 ms doubling to 5 s, plus
// up to 25% jitter.
constexpr Backoff kReconnectBackoff{250ms, 5s, 25};

}  // namespace

// nats.c calls back into these with the NatsConnection as closure.
struct NatsCallbacks {
  static void disconnected(natsConnection*, void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    {
      std::lock_guard lock(self.state_mutex_);
      self.up_ = false;
    }
    if (self.closing_ || !self.connected_once_) return;
    ++self.disconnects_;
    spdlog::warn("[NATS] Disconnected from NATS server {}; reconnecting...", redact_url(self.last_url_));
  }

  static void reconnected(natsConnection* connection, void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    const std::string url = mark_up(self, connection);
    ++self.reconnects_;
    spdlog::info("[NATS] Reconnected to NATS server {}", redact_url(url));
  }

  // The first connection, when it was made in the background
  // (RetryOnFailedConnect).
  static void connected(natsConnection* connection, void* closure) {
    mark_up(*static_cast<NatsConnection*>(closure), connection);
  }

  // Records that the connection is up, at which URL, and wakes waiters.
  static std::string mark_up(NatsConnection& self, natsConnection* connection) {
    char url[512] = {0};
    natsConnection_GetConnectedUrl(connection, url, sizeof url);
    std::lock_guard lock(self.state_mutex_);
    self.up_ = true;
    self.last_url_ = url;
    self.state_changed_.notify_all();
    return url;
  }

  static void closed(natsConnection*, void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    const bool unexpected = !self.closing_;
    if (unexpected) {
      if (self.connected_once_) {
        spdlog::error("[NATS] The connection to NATS was closed and will not be retried "
                      "(the server rejected it: check the credentials)");
      }
      if (self.stop_) self.stop_->request(1);
    }
    // Notify under the lock: close() may destroy this object as soon as it
    // sees closed_.
    std::lock_guard lock(self.state_mutex_);
    self.closed_ = true;
    self.up_ = false;
    self.state_changed_.notify_all();
  }

  static void error(natsConnection*, natsSubscription* subscription, natsStatus status,
                    void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    if (self.on_async_error) {
      self.on_async_error(subscription, status);
      return;
    }
    spdlog::warn("[NATS] Asynchronous error{}{}: {}", subscription ? " on " : "",
                 subscription ? natsSubscription_GetSubject(subscription) : "",
                 natsStatus_GetText(status));
  }

  // Called by nats.c after every server of the list failed once: the wait
  // before the next round. Exponential from 250 ms to 5 s, plus up to 25%
  // random jitter so that many instances do not come back in step.
  static int64_t reconnect_delay(natsConnection*, int attempts, void* closure) {
    auto& self = *static_cast<NatsConnection*>(closure);
    const std::int64_t delay = kReconnectBackoff.after(attempts).count();
    if (self.closing_) return delay;
    if (self.connected_once_) {
      spdlog::warn("[NATS] Reconnect attempt {} to {} failed; retrying in {} ms", attempts,
                   server_list(self.config_.servers), delay);
    } else {
      spdlog::warn("[NATS] No NATS server reachable at {} yet (attempt {}); retrying in {} ms",
                   server_list(self.config_.servers), attempts, delay);
    }
    return delay;
  }
};

NatsConnection::NatsConnection(const NatsConfig& config, StopFlag* stop)
    : config_(config), stop_(stop) {
  check(natsOptions_Create(&options_), "cannot create NATS options");
  try {
    configure_options();
  } catch (...) {
    natsOptions_Destroy(options_);  // the destructor does not run for a constructor that throws
    throw;
  }
}

void NatsConnection::configure_options() {
  std::vector<const char*> servers;
  for (const auto& url : config_.servers) servers.push_back(url.c_str());
  check(natsOptions_SetServers(options_, servers.data(), static_cast<int>(servers.size())),
        "NATS_SERVERS");
  check(natsOptions_SetName(options_, "customeriq"), "NATS options");
  check(natsOptions_SetMaxReconnect(options_, -1), "NATS options");
  check(natsOptions_SetReconnectWait(options_, 250), "NATS options");
  check(natsOptions_SetReconnectJitter(options_, 100, 1000), "NATS options");
  check(natsOptions_SetPingInterval(options_, 10000), "NATS options");
  check(natsOptions_SetMaxPingsOut(options_, 3), "NATS options");
  if (stop_) {
    check(natsOptions_SetCustomReconnectDelay(options_, NatsCallbacks::reconnect_delay, this),
          "NATS options");
  }
  check(natsOptions_SetDisconnectedCB(options_, NatsCallbacks::disconnected, this), "NATS options");
  check(natsOptions_SetReconnectedCB(options_, NatsCallbacks::reconnected, this), "NATS options");
  check(natsOptions_SetClosedCB(options_, NatsCallbacks::closed, this), "NATS options");
  check(natsOptions_SetErrorHandler(options_, NatsCallbacks::error, this), "NATS options");

  if (!config_.user.empty())
    check(natsOptions_SetUserInfo(options_, config_.user.c_str(), config_.password.c_str()),
          "NATS_USER/NATS_PASSWORD");
  if (!config_.token.empty())
    check(natsOptions_SetToken(options_, config_.token.c_str()), "NATS_TOKEN");
  if (!config_.creds_file.empty())
    check(natsOptions_SetUserCredentialsFromFiles(options_, config_.creds_file.c_str(), nullptr),
          "NATS_CREDS=" + config_.creds_file);
  if (!config_.nkey_seed_file.empty())
    check(natsOptions_SetNKeyFromSeed(options_, config_.nkey_public.c_str(), config_.nkey_seed_file.c_str()),
          "NATS_NKEY_SEED=" + config_.nkey_seed_file);
  if (config_.tls()) {
    check(natsOptions_SetSecure(options_, true), "TLS");
    if (!config_.tls_ca.empty())
      check(natsOptions_LoadCATrustedCertificates(options_, config_.tls_ca.c_str()),
            "NATS_TLS_CA=" + config_.tls_ca);
    if (!config_.tls_cert.empty())
      check(natsOptions_LoadCertificatesChain(options_, config_.tls_cert.c_str(),
                                              config_.tls_key.c_str()),
            "NATS_TLS_CERT/NATS_TLS_KEY");
  }
}

NatsConnection::~NatsConnection() {
  close();
  natsOptions_Destroy(options_);
}

std::string NatsConnection::connected_url() const {
  std::lock_guard lock(state_mutex_);
  return last_url_;
}

bool NatsConnection::connect() {
  const std::string servers = server_list(config_.servers);
  spdlog::info("[NATS] Connecting to NATS server(s): {}", servers);
  natsStatus status = natsConnection_Connect(&connection_, options_);
  if (status == NATS_NO_SERVER && stop_) {
    spdlog::warn("[NATS] No NATS server reachable at {} ({}); will keep trying until one is",
                 servers, status_text(status));
    check(natsOptions_SetRetryOnFailedConnect(options_, true, NatsCallbacks::connected, this),
          "NATS options");
    status = natsConnection_Connect(&connection_, options_);
    if (status == NATS_NOT_YET_CONNECTED) {
      std::unique_lock lock(state_mutex_);
      while (!up_ && !closed_ && !stop_->requested())
        state_changed_.wait_for(lock, 200ms);
      if (!up_) {
        const bool closed = closed_;
        lock.unlock();
        if (closed) {
          throw NatsError("the NATS server at " + servers +
                          " closed the connection before it was established (wrong credentials? "
                          "check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS or NATS_NKEY_SEED)");
        }
        return false;  // stop requested
      }
      status = NATS_OK;
    }
  }
  if (status == NATS_CONNECTION_AUTH_FAILED || status == NATS_NOT_PERMITTED) {
    throw NatsError("authorization failed at " + servers + ": " + status_text(status) +
                    " (check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS or NATS_NKEY_SEED)");
  }
  if (status == NATS_SSL_ERROR) {
    // Not worth retrying: a certificate does not become valid by waiting.
    throw NatsError("TLS with the NATS server at " + servers + " failed: " + status_text(status) +
                    " (check NATS_TLS_CA, the CA that signed the server's certificate, and NATS_TLS_CERT/"
                    "NATS_TLS_KEY when the server asks for a client certificate)");
  }
  if ((status == NATS_PROTOCOL_ERROR || status == NATS_IO_ERROR) && config_.tls()) {
    // Under TLS 1.3 a server that refuses the client's certificate (or
    // its absence) closes the connection after the handshake.
    throw NatsError("the NATS server at " + servers + " closed the TLS connection: " + status_text(status) +
                    " (does it require a client certificate? check NATS_TLS_CERT/NATS_TLS_KEY)");
  }
  if (status != NATS_OK)
    throw NatsError("cannot connect to NATS at " + servers + ": " + status_text(status));
  {
    char url[512] = {0};
    natsConnection_GetConnectedUrl(connection_, url, sizeof url);
    std::lock_guard lock(state_mutex_);
    up_ = true;
    last_url_ = url;
  }
  connected_once_ = true;
  spdlog::info("[NATS] Connected successfully");
  spdlog::debug("[NATS] Connected to {}", redact_url(connected_url()));
  return true;
}

void NatsConnection::close() {
  if (!connection_) return;
  closing_ = true;
  if (natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED) {
    if (natsConnection_FlushTimeout(connection_, 5000) != NATS_OK)
      spdlog::warn("[NATS] Could not flush the last messages (acks) to the server");
  }
  natsConnection_Close(connection_);
  {
    // Wait for the closed callback: it uses this object.
    std::unique_lock lock(state_mutex_);
    state_changed_.wait_for(lock, 5s, [&] { return closed_; });
  }
  natsConnection_Destroy(connection_);
  connection_ = nullptr;
}

}  // namespace customeriq
