// HTTP/1.1 messages as the server sees them: a parsed request (header names lower-cased) and a
// complete response. Streaming responses go through ResponseWriter (http_server.h) instead.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace g3n::server {

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: "/v1/models?x=1"
  std::string path;     // target without the query
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, trimmed values
  std::string body;
  std::string remote;   // peer address, for the log

  // The first header of that (lower-case) name; empty if absent.
  std::string_view Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return {};
  }
  bool HasHeader(std::string_view name) const {
    for (const auto& kv : headers) {
      if (kv.first == name) return true;
    }
    return false;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

// "OK", "Not Found", ... ("Unknown" for codes the server never sends).
const char* ReasonPhrase(int status);

}  // namespace g3n::server
