// NATS authentication and TLS against a real nats-server configured for
// each: token, NKey, TLS with a CA made here by openssl, a client
// certificate, and the failures (wrong token or key, wrong CA, an expired
// certificate, no client certificate), for `serve` and `publish` alike.
// A failure must exit with a message that says what is wrong, never hang
// and never show a secret.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "sources/nats/nkey.hpp"
#include "support/nats_fixture.hpp"

using namespace customeriq::test;

namespace {

using Env = std::map<std::string, std::string>;

// A certificate authority and the certificates signed by it, made by the
// openssl command line in a folder of the test (EC P-256: fast to make).
class Pki {
 public:
  explicit Pki(std::filesystem::path dir, const std::string& name = "ca") : dir_(std::move(dir)), ca_(name) {
    std::filesystem::create_directories(dir_);
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             file(ca_ + ".key"), "-out", file(ca_ + ".pem"), "-days", "2", "-subj", "/CN=CustomerIQ test " + ca_});
  }

  std::string ca() const { return file(ca_ + ".pem"); }
  std::string cert(const std::string& name) const { return file(name + ".pem"); }
  std::string key(const std::string& name) const { return file(name + ".key"); }

  // name.pem and name.key, for 127.0.0.1 (as a server or a client); days
  // -1 makes one that expired a day ago.
  void issue(const std::string& name, int days = 2) const {
    write_file(file(name + ".ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key(name),
             "-out", file(name + ".csr"), "-subj", "/CN=127.0.0.1"});
    openssl({"x509", "-req", "-in", file(name + ".csr"), "-CA", ca(), "-CAkey", file(ca_ + ".key"), "-set_serial",
             std::to_string(++serial_), "-days", std::to_string(days), "-extfile", file(name + ".ext"), "-out",
             cert(name)});
  }

 private:
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  static void openssl(const std::vector<std::string>& args) {
    const auto result = run_process("/usr/bin/openssl", args);
    INFO("openssl " << args.front() << ": " << result.err);
    REQUIRE(result.exit_code == 0);
  }

  std::filesystem::path dir_;
  std::string ca_;
  mutable int serial_ = 0;
};

std::string tls_block(const Pki& pki, const std::string& server, bool verify_clients) {
  std::string block = "tls {\n  cert_file: \"" + pki.cert(server) + "\"\n  key_file: \"" + pki.key(server) + "\"\n";
  if (verify_clients) block += "  ca_file: \"" + pki.ca() + "\"\n  verify: true\n";
  return block + "  timeout: 5\n}\n";
}

struct SecurityCase {
  TempDir dir;
  std::filesystem::path database = dir / "db.sqlite";

  Env serve_env(const NatsServer& server, Env extra) const {
    Env env{{"NATS_ENABLED", "true"}, {"NATS_SERVERS", server.url()}, {"CUSTOMERIQ_DB", database.string()}};
    for (auto& [name, value] : extra) env[name] = value;
    return env;
  }

  // `serve` that must fail: its exit code and log, within 30 s (no hang).
  ProcessResult serve_refused(const NatsServer& server, Env extra) const {
    ChildProcess process(CUSTOMERIQ_BINARY, {"serve"}, customeriq_env(dir, serve_env(server, std::move(extra))),
                         dir / "refused");
    const auto code = process.wait_for(30s);
    INFO(process.err());
    REQUIRE(code.has_value());
    return {*code, process.out(), process.err()};
  }

  // `serve` that must work: it starts, and an event published with the
  // same settings is stored.
  void serve_and_publish(const NatsServer& server, const Env& extra) const {
    const auto before = query_count(database, "SELECT count(*) FROM purchases");
    ChildProcess process(CUSTOMERIQ_BINARY, {"serve"}, customeriq_env(dir, serve_env(server, extra)), dir / "serve");
    const bool started = process.wait_for_log("[NATS] Service started successfully", 30s);
    INFO(process.err());
    REQUIRE(started);
    const auto published = publish(server, extra);
    INFO(published.err);
    REQUIRE(published.exit_code == 0);
    CHECK(eventually([&] { return query_count(database, "SELECT count(*) FROM purchases") == before + 1; }, 20s));
    process.signal(SIGTERM);
    CHECK(process.wait_for(30s) == 0);
  }

  ProcessResult publish(const NatsServer& server, const Env& extra) const {
    return run_process(CUSTOMERIQ_BINARY, {"publish", "--event", "purchase", "--servers", server.url()},
                       customeriq_env(dir, extra));
  }
};

void check_hidden(const ProcessResult& result, const std::string& secret) {
  CHECK_THAT(result.out, !Catch::Contains(secret));
  CHECK_THAT(result.err, !Catch::Contains(secret));
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A new user NKey seed, from an Ed25519 key openssl generates: the raw
// private key is the last 32 bytes of its PKCS#8 DER.
std::string generate_nkey_seed(const TempDir& dir, const std::string& name) {
  const auto der = dir / (name + ".der");
  const auto result = run_process("/usr/bin/openssl", {"genpkey", "-algorithm", "ed25519", "-outform", "DER", "-out",
                                                       der.string()});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const std::string bytes = read_bytes(der);
  REQUIRE(bytes.size() == 48);
  return customeriq::nkey_user_seed(bytes.substr(16));
}

}  // namespace

TEST_CASE("nats token auth: the right token works, a wrong one exits 1 saying so, and is never shown",
          "[nats][nats-security]") {
  SecurityCase test;
  NatsServer server({.jetstream = false, .config = "authorization {\n  token: \"tok-Right-5521\"\n}\n"});

  const auto wrong = test.serve_refused(server, {{"NATS_TOKEN", "tok-Wrong-7730"}});
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, Catch::Contains("Authorization Violation"));
  CHECK_THAT(wrong.err, Catch::Contains("NATS_TOKEN"));
  check_hidden(wrong, "tok-Wrong-7730");

  const auto unauthenticated = test.publish(server, {});
  CHECK(unauthenticated.exit_code == 1);
  CHECK_THAT(unauthenticated.err, Catch::Contains("Authorization Violation"));

  test.serve_and_publish(server, {{"NATS_TOKEN", "tok-Right-5521"}});
}

TEST_CASE("nats NKey auth: a seed whose public key the server lists works, another seed is refused",
          "[nats][nats-security]") {
  SecurityCase test;
  const std::string seed = generate_nkey_seed(test.dir, "alice");
  CHECK(seed.rfind("SU", 0) == 0);
  const std::string public_key = customeriq::nkey_public_key(seed);
  CHECK(public_key.size() == 56);
  CHECK(public_key.front() == 'U');
  const auto seed_file = test.dir / "alice.nk";
  write_file(seed_file, seed + "\n");
  ::chmod(seed_file.c_str(), 0600);
  NatsServer server({.jetstream = false,
                     .config = "authorization {\n  users: [ { nkey: \"" + public_key + "\" } ]\n}\n"});

  test.serve_and_publish(server, {{"NATS_NKEY_SEED", seed_file.string()}});

  // Another key: the server does not know it.
  const auto other_file = test.dir / "mallory.nk";
  const std::string other_seed = generate_nkey_seed(test.dir, "mallory");
  write_file(other_file, other_seed + "\n");
  const auto refused = test.serve_refused(server, {{"NATS_NKEY_SEED", other_file.string()}});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("Authorization Violation"));
  CHECK_THAT(refused.err, Catch::Contains("NATS_NKEY_SEED"));
  check_hidden(refused, other_seed);
  const auto publish_refused = test.publish(server, {{"NATS_NKEY_SEED", other_file.string()}});
  CHECK(publish_refused.exit_code == 1);
  check_hidden(publish_refused, other_seed);

  // Not a seed: a configuration error naming the file, never its text.
  const auto garbage = test.dir / "garbage.nk";
  write_file(garbage, "SUNOTAREALSEEDATALLBUTSECRETLOOKING\n");
  const auto malformed = test.serve_refused(server, {{"NATS_NKEY_SEED", garbage.string()}});
  CHECK(malformed.exit_code == 2);
  CHECK_THAT(malformed.err, Catch::Contains("NATS_NKEY_SEED=" + garbage.string() + " is not an NKey seed"));
  check_hidden(malformed, "SUNOTAREALSEEDATALLBUTSECRETLOOKING");
  // A public key where the seed belongs.
  write_file(garbage, public_key + "\n");
  CHECK_THAT(test.serve_refused(server, {{"NATS_NKEY_SEED", garbage.string()}}).err,
             Catch::Contains("is not an NKey seed"));
}

TEST_CASE("nats TLS: a server certificate from NATS_TLS_CA works, a wrong CA or an expired certificate fails clearly",
          "[nats][nats-security][tls]") {
  SecurityCase test;
  Pki pki(test.dir / "pki");
  pki.issue("server");
  pki.issue("expired", -1);
  Pki other(test.dir / "other-pki", "other-ca");

  NatsServer server({.jetstream = false, .config = tls_block(pki, "server", false)});
  test.serve_and_publish(server, {{"NATS_TLS_CA", pki.ca()}});

  const auto wrong_ca = test.serve_refused(server, {{"NATS_TLS_CA", other.ca()}});
  CHECK(wrong_ca.exit_code == 1);
  CHECK_THAT(wrong_ca.err, Catch::Contains("TLS with the NATS server at " + server.url() + " failed"));
  CHECK_THAT(wrong_ca.err, Catch::Contains("unable to get local issuer certificate"));
  CHECK_THAT(wrong_ca.err, Catch::Contains("check NATS_TLS_CA"));
  const auto publish_wrong_ca = test.publish(server, {{"NATS_TLS_CA", other.ca()}});
  CHECK(publish_wrong_ca.exit_code == 1);
  CHECK_THAT(publish_wrong_ca.err, Catch::Contains("unable to get local issuer certificate"));

  // No TLS asked for: the server requires it, nats.c turns it on and checks
  // the certificate against the system's CAs, which never signed it.
  const auto plain = test.serve_refused(server, {});
  CHECK(plain.exit_code == 1);
  CHECK_THAT(plain.err, Catch::Contains("TLS with the NATS server") && Catch::Contains("check NATS_TLS_CA"));

  NatsServer expired({.jetstream = false, .config = tls_block(pki, "expired", false)});
  const auto stale = test.serve_refused(expired, {{"NATS_TLS_CA", pki.ca()}});
  CHECK(stale.exit_code == 1);
  CHECK_THAT(stale.err, Catch::Contains("certificate has expired"));
}

TEST_CASE("nats TLS with client certificates: NATS_TLS_CERT/NATS_TLS_KEY work, none is refused clearly",
          "[nats][nats-security][tls]") {
  SecurityCase test;
  Pki pki(test.dir / "pki");
  pki.issue("server");
  pki.issue("client");
  Pki other(test.dir / "other-pki", "other-ca");
  other.issue("stranger");
  NatsServer server({.jetstream = false, .config = tls_block(pki, "server", true)});

  test.serve_and_publish(server,
                         {{"NATS_TLS_CA", pki.ca()}, {"NATS_TLS_CERT", pki.cert("client")}, {"NATS_TLS_KEY", pki.key("client")}});

  const auto without = test.serve_refused(server, {{"NATS_TLS_CA", pki.ca()}});
  CHECK(without.exit_code == 1);
  CHECK_THAT(without.err, Catch::Contains("closed the TLS connection") && Catch::Contains("check NATS_TLS_CERT/NATS_TLS_KEY"));
  const auto stranger = test.serve_refused(
      server, {{"NATS_TLS_CA", pki.ca()}, {"NATS_TLS_CERT", other.cert("stranger")}, {"NATS_TLS_KEY", other.key("stranger")}});
  CHECK(stranger.exit_code == 1);
  CHECK_THAT(stranger.err, Catch::Contains("check NATS_TLS_CERT/NATS_TLS_KEY"));
  const auto publish_without = test.publish(server, {{"NATS_TLS_CA", pki.ca()}});
  CHECK(publish_without.exit_code == 1);
  CHECK_THAT(publish_without.err, Catch::Contains("check NATS_TLS_CERT/NATS_TLS_KEY"));

  // A key that is not the certificate's: refused before connecting.
  const auto mismatched = test.serve_refused(
      server, {{"NATS_TLS_CA", pki.ca()}, {"NATS_TLS_CERT", pki.cert("client")}, {"NATS_TLS_KEY", pki.key("server")}});
  CHECK(mismatched.exit_code != 0);
  CHECK_THAT(mismatched.err, Catch::Contains("NATS_TLS_CERT/NATS_TLS_KEY"));
}
