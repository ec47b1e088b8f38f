// Console: the routes of the support console (docs/HTTP.md#the-support-console):
// the page at / and at /customers/{id} (a deep link the page reads), and its
// files under /console/. They hold no data, so they need no token; the
// page's own /v1 calls carry it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "http/http_message.hpp"

namespace customeriq::http {

class Console {
 public:
  Console();

  // The route pattern of a console path ("/", "/customers/{id}",
  // "/console/{file}"), nullptr when the path is not the console's.
  static const char* route(const Request& request);

  // The answer to a request whose path route() matched: the file with its
  // type, ETag (304 for If-None-Match) and a Content-Security-Policy that
  // lets the page load nothing from another origin.
  Response serve(const Request& request) const;

 private:
  struct File {
    std::string_view bytes;
    std::string content_type;
    std::string etag;
  };
  Response answer(const File& file, const Request& request) const;

  std::map<std::string, File, std::less<>> files_;
};

}  // namespace customeriq::http
