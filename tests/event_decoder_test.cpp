// The decoder: whatever the bytes hold, the result is an event or a dead
// letter with a reason that names what is wrong — never an exception.
#include <catch2/catch.hpp>

#include "pipeline/event_decoder.hpp"
#include "text.hpp"

using namespace customeriq;

namespace {

std::variant<sdk::Event, DeadLetter> decode_bytes(std::string bytes, Headers headers = {},
                                                  DecodeLimits limits = {}) {
  RawMessage message;
  message.bytes = std::move(bytes);
  message.subject = "test";
  message.headers = std::move(headers);
  return decode_event(std::move(message), limits);
}

std::string reason_for(std::string bytes) {
  auto decoded = decode_bytes(std::move(bytes));
  const auto* letter = std::get_if<DeadLetter>(&decoded);
  if (!letter) return "(decoded as an event)";
  return letter->reason;
}

std::string with_timestamp(const std::string& timestamp) {
  return R"({"customer_id":"c","event_type":"note","timestamp":)" + timestamp + R"(,"data":{"content":"x"}})";
}

}  // namespace

TEST_CASE("numbers too large for a double are a reason, not an exception", "[decoder]") {
  CHECK(reason_for(R"({"customer_id":"c","event_type":"purchase","data":{"purchase_id":"o","total":1e400}})") ==
        "not valid JSON: [json.exception.out_of_range.406] number overflow parsing '1e400'");
  CHECK_THAT(reason_for(R"({"customer_id":"c","event_type":"purchase","data":{"total":17341e400134400}})"),
             Catch::StartsWith("not valid JSON: [json.exception.out_of_range.406] number overflow"));
}

TEST_CASE("nesting deeper than limits.max_nesting_depth is refused before parsing", "[decoder]") {
  const std::size_t n = 200000;
  const std::string deep =
      R"({"customer_id":"c","event_type":"x","data":{"a":)" + std::string(n, '[') + std::string(n, ']') + "}}";
  CHECK(reason_for(deep) == "JSON nests more than 64 arrays/objects deep (at byte 110; limits.max_nesting_depth)");
  // Brackets inside strings do not count; 64 levels are fine.
  const std::string ok = R"({"customer_id":"c","event_type":"x","data":{"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[","a":)" +
                         std::string(62, '[') + std::string(62, ']') + "}}";
  CHECK(std::holds_alternative<sdk::Event>(decode_bytes(ok)));
  DecodeLimits shallow;
  shallow.max_nesting_depth = 3;
  auto decoded = decode_bytes(R"({"customer_id":"c","event_type":"x","data":{"a":[[1]]}})", {}, shallow);
  REQUIRE(std::holds_alternative<DeadLetter>(decoded));
  CHECK_THAT(std::get<DeadLetter>(decoded).reason, Catch::StartsWith("JSON nests more than 3 "));
}

TEST_CASE("a NUL byte anywhere is refused: the parser would stop there and apply the prefix", "[decoder]") {
  CHECK(reason_for(std::string(R"({"customer_id":"c","event_type":"note","data":{"content":"x"}})") + '\0' + "junk") ==
        "payload holds a NUL byte at offset 62");
}

TEST_CASE("envelope ids are bounded and printable, without surrounding whitespace", "[decoder]") {
  CHECK(reason_for(R"({"customer_id":"c ","event_type":"note"})") ==
        "customer_id must not begin or end with whitespace, got \"c \"");
  CHECK(reason_for(R"({"customer_id":"   ","event_type":"note"})") ==
        "customer_id must not begin or end with whitespace, got \"   \"");
  CHECK(reason_for(R"({"customer_id":"c\u0000d","event_type":"note"})") ==
        "customer_id must not contain control characters, got \"c\\u0000d\"");
  CHECK(reason_for(R"({"customer_id":")" + std::string(300, 'c') + R"(","event_type":"note"})") ==
        "customer_id is 300 bytes, over the limit of 256");
  CHECK(reason_for(R"({"customer_id":"c","event_type":")" + std::string(100000, 't') + R"("})") ==
        "event_type is 100000 bytes, over the limit of 64");
  CHECK(reason_for(R"({"customer_id":"c","event_type":"note please"})") ==
        "event_type may hold only letters, digits and _ - . :, got \"note please\"");
  CHECK(reason_for(R"({"event_id":"a\tb","customer_id":"c","event_type":"note"})") ==
        "event_id must not contain control characters, got \"a\\tb\"");
  // "" is no id at all: the email identifies the customer.
  auto decoded = decode_bytes(R"({"customer_id":"","event_type":"note","data":{"email":" Ann@Example.COM "}})");
  REQUIRE(std::holds_alternative<sdk::Event>(decoded));
  CHECK(std::get<sdk::Event>(decoded).customer_email == "ann@example.com");
}

TEST_CASE("a wrong envelope value is quoted short", "[decoder]") {
  const std::string reason = reason_for(R"({"customer_id":"c","event_type":"note","data":")" + std::string(100000, 'x') + R"("})");
  CHECK_THAT(reason, Catch::StartsWith("data must be an object, got string \"xxx"));
  CHECK(reason.size() < 150);
}

TEST_CASE("timestamps: unix seconds or milliseconds and strict ISO-8601, 1970 to 9999", "[decoder]") {
  using customeriq::parse_timestamp;
  CHECK(parse_timestamp(sdk::Json(1734134400)) == 1734134400);
  CHECK(parse_timestamp(sdk::Json(1734134400123LL)) == 1734134400);
  CHECK(parse_timestamp(sdk::Json(1734134400.9)) == 1734134400);
  CHECK(parse_timestamp(sdk::Json("2024-12-14T00:00:00Z")) == 1734134400);
  CHECK(parse_timestamp(sdk::Json("2024-12-14T00:00:00.250Z")) == 1734134400);
  CHECK(parse_timestamp(sdk::Json("2024-12-14T02:30:00+02:30")) == 1734134400);
  CHECK(parse_timestamp(sdk::Json("2024-12-13T19:00:00-05:00")) == 1734134400);
  CHECK(parse_timestamp(sdk::Json("2024-02-29T00:00:00Z")) == 1709164800);
  CHECK(parse_timestamp(sdk::Json("1970-01-01T00:00:00Z")) == 0);
  CHECK(parse_timestamp(sdk::Json("9999-12-31T23:59:59Z")) == 253402300799);

  const std::string expected = "timestamp must be unix seconds (or milliseconds) or an ISO-8601 time like "
                               "2024-12-14T00:00:00Z, between 1970 and 9999, got ";
  for (const char* bad : {"9.3e21", "1.7e308", "1e20", "-1", "\"2024-13-45T99:99:99Z\"",
                          "\"2024-01-01T00:00:00+25:99\"", "\"2024-01-01T00:00:00+02:60\"",
                          "\"0000-01-01T00:00:00Z\"", "\"1969-12-31T23:59:59Z\"", "\"2023-02-29T00:00:00Z\"",
                          "\"2024-01-01T24:00:00Z\"", "\"2024-01-01T00:00:00\"", "\"2024-01-01 00:00:00Z\"",
                          "\"+2024-01-01T00:00:00Z\"", "\"2024-1-01T00:00:00Z\"", "\"2024-01-01T00:00:00.Z\"",
                          "\"2024-01-01T00:00:00Zjunk\"", "true"}) {
    INFO(bad);
    CHECK(reason_for(with_timestamp(bad)) == expected + sdk::Json::parse(bad).dump());
  }
}

TEST_CASE("the idempotency key is event_id, else the payload's hash on every path", "[decoder]") {
  const std::string payload = R"({"customer_id":"c","event_type":"note","data":{"content":"x"}})";
  auto over_nats = decode_bytes(payload + "\n", {{"Nats-Msg-Id", "publisher-id-1"}});
  auto from_file = decode_bytes(payload);
  REQUIRE(std::holds_alternative<sdk::Event>(over_nats));
  REQUIRE(std::holds_alternative<sdk::Event>(from_file));
  CHECK(std::get<sdk::Event>(over_nats).idempotency_key == std::get<sdk::Event>(from_file).idempotency_key);
  CHECK_THAT(std::get<sdk::Event>(from_file).idempotency_key, Catch::StartsWith("fnv128:"));
  auto with_id = decode_bytes(R"({"event_id":"evt-1","customer_id":"c","event_type":"note"})");
  CHECK(std::get<sdk::Event>(with_id).idempotency_key == "evt-1");
}

TEST_CASE("credentials in headers are redacted before anything keeps them", "[decoder]") {
  Headers headers{{"Authorization", "Bearer s3cret"}, {"X-Api-Key", "k3y"},      {"Cookie", "session=abc"},
                  {"X-Auth-Token", "t0ken"},          {"Nats-Msg-Id", "m-1"},    {"X-Client-Secret", "sh"},
                  {"Traceparent", "00-abc-def-01"}};
  auto invalid = decode_bytes("{oops", headers);
  const Headers expected{{"Authorization", "[redacted]"}, {"X-Api-Key", "[redacted]"}, {"Cookie", "[redacted]"},
                         {"X-Auth-Token", "[redacted]"},  {"Nats-Msg-Id", "m-1"},      {"X-Client-Secret", "[redacted]"},
                         {"Traceparent", "00-abc-def-01"}};
  CHECK(std::get<DeadLetter>(invalid).headers == expected);
  auto valid = decode_bytes(R"({"customer_id":"c","event_type":"note"})", headers);
  CHECK(std::get<sdk::Event>(valid).headers == expected);
}

TEST_CASE("a subject, header names and values that are not UTF-8 are escaped, so they can be stored", "[decoder]") {
  RawMessage message;
  message.bytes = "{oops";
  message.subject = "\x93" "customer.events.x";
  message.headers = {{"X-Trace\xff", "a\xfe"}, {"Nats-Msg-Id", "\xc3"}};
  auto decoded = decode_event(std::move(message), DecodeLimits{});
  const Headers expected{{"X-Trace\\xFF", "a\\xFE"}, {"Nats-Msg-Id", "\\xC3"}};
  CHECK(std::get<DeadLetter>(decoded).headers == expected);
  CHECK(std::get<DeadLetter>(decoded).subject == "\\x93customer.events.x");
}

TEST_CASE("reasons are valid UTF-8 even when the payload is not", "[decoder]") {
  const std::string reason = reason_for("{\"customer_id\":\"c\xff\xfe\",\"event_type\":\"note\"}");
  CHECK_THAT(reason, Catch::StartsWith("not valid JSON: "));
  CHECK(is_valid_utf8(reason));
  CHECK(to_valid_utf8("a\xffz\xc3\xa9") == "a\\xFFz\xc3\xa9");
  CHECK(base64_encode("\xff\xfe") == "//4=");
  CHECK(base64_encode("abc") == "YWJj");
  CHECK(base64_encode("ab") == "YWI=");
}
