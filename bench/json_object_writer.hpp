// One JSON object written straight into a string, for the generator's
// event lines (faster than building a json value per event).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace customeriq::bench {

inline void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

// A tiny JSON object writer for flat-ish objects (keys are trusted).
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ObjectWriter& str(const char* key, std::string_view value) {
    this->key(key);
    out_ += '"';
    append_escaped(out_, value);
    out_ += '"';
    return *this;
  }
  ObjectWriter& integer(const char* key, std::int64_t value) {
    this->key(key);
    out_ += std::to_string(value);
    return *this;
  }
  ObjectWriter& number(const char* key, double value) {
    this->key(key);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", value);
    out_ += buf;
    return *this;
  }
  ObjectWriter& boolean(const char* key, bool value) {
    this->key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  ObjectWriter& raw(const char* key, std::string_view json) {
    this->key(key);
    out_ += json;
    return *this;
  }
  void close() { out_ += '}'; }

 private:
  void key(const char* key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace customeriq::bench
