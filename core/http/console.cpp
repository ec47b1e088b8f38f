#include "http/console.hpp"

#include "hash.hpp"
#include "http/console_assets.hpp"

namespace customeriq::http {
namespace {

// Everything from this origin, nothing inline, nothing from elsewhere; the
// page is never framed.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

constexpr std::string_view kPage = "index.html";

std::string content_type_of(std::string_view name) {
  const auto dot = name.rfind('.');
  const std::string_view extension = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  if (extension == "html") return "text/html; charset=utf-8";
  if (extension == "js") return "text/javascript; charset=utf-8";
  if (extension == "css") return "text/css; charset=utf-8";
  if (extension == "svg") return "image/svg+xml";
  if (extension == "png") return "image/png";
  return "application/octet-stream";
}

// If-None-Match holds one ETag, a list of them, or *.
bool matches(const std::string* if_none_match, const std::string& etag) {
  if (!if_none_match) return false;
  return *if_none_match == "*" || if_none_match->find(etag) != std::string::npos;
}

}  // namespace

Console::Console() {
  for (const ConsoleFile& file : console_files()) {
    files_.emplace(std::string(file.name),
                   File{file.bytes, content_type_of(file.name), "\"" + fnv1a_128_hex(file.bytes) + "\""});
  }
}

const char* Console::route(const Request& request) {
  const auto& path = request.segments;
  if (path.empty()) return "/";
  if (path.size() == 2 && path[0] == "customers") return "/customers/{id}";
  if (path.size() == 2 && path[0] == "console") return "/console/{file}";
  return nullptr;
}

Response Console::serve(const Request& request) const {
  if (request.method != "GET") {
    Response refusal = Response::error(405, std::string(route(request)) + " takes GET, not " + request.method);
    refusal.headers.emplace_back("Allow", "GET");
    return refusal;
  }
  const auto& path = request.segments;
  const std::string_view name = path.size() == 2 && path[0] == "console" ? std::string_view(path[1]) : kPage;
  const auto file = files_.find(name);
  if (file == files_.end()) return Response::error(404, "no console file '" + std::string(name) + "'");
  return answer(file->second, request);
}

Response Console::answer(const File& file, const Request& request) const {
  Response response;
  response.content_type = file.content_type;
  response.headers = {
      {"ETag", file.etag},
      // Revalidate every time: the names carry no version, and the ETag
      // makes an unchanged file a 304.
      {"Cache-Control", "no-cache"},
      {"Content-Security-Policy", kContentSecurityPolicy},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
  };
  if (matches(request.header("if-none-match"), file.etag)) {
    response.status = 304;
    return response;
  }
  response.body = std::string(file.bytes);
  return response;
}

}  // namespace customeriq::http
