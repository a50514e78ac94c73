#include "server/http_parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace g3n::server {
namespace {

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ContainsToken(std::string_view list, std::string_view token) {
  const std::string l = Lower(list);
  size_t at = 0;
  while (at <= l.size()) {
    size_t comma = l.find(',', at);
    if (comma == std::string::npos) comma = l.size();
    if (Trim(std::string_view(l).substr(at, comma - at)) == token) return true;
    at = comma + 1;
  }
  return false;
}

}  // namespace

size_t FindHeadEnd(std::string_view buf) {
  const size_t at = buf.find("\r\n\r\n");
  return at == std::string_view::npos ? std::string_view::npos : at + 4;
}

std::optional<HeadError> ParseHead(std::string_view head, HttpRequest* req) {
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return HeadError{400, "malformed request line"};
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return HeadError{400, "malformed request line"};
  req->method = std::string(line.substr(0, sp1));
  req->target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req->version = std::string(line.substr(sp2 + 1));
  if (req->method.empty() || !std::all_of(req->method.begin(), req->method.end(), IsTokenChar))
    return HeadError{400, "malformed request method"};
  if (req->target.empty() || req->target[0] != '/') return HeadError{400, "request target must be an absolute path"};
  if (req->version != "HTTP/1.1" && req->version != "HTTP/1.0")
    return HeadError{505, "HTTP version not supported: " + req->version};
  req->path = req->target.substr(0, req->target.find('?'));

  size_t at = eol + 2;
  while (at < head.size()) {
    eol = head.find("\r\n", at);
    if (eol == std::string_view::npos) return HeadError{400, "malformed header field"};
    if (eol == at) break;  // the blank line
    const std::string_view field = head.substr(at, eol - at);
    const size_t colon = field.find(':');
    if (colon == 0 || colon == std::string_view::npos) return HeadError{400, "malformed header field"};
    const std::string_view name = field.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) return HeadError{400, "malformed header name"};
    const std::string_view value = Trim(field.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; }))
      return HeadError{400, "malformed header value"};
    req->headers.emplace_back(Lower(name), std::string(value));
    at = eol + 2;
  }
  return std::nullopt;
}

BodyLength RequestBodyLength(const HttpRequest& req) {
  BodyLength b;
  if (req.HasHeader("transfer-encoding")) {
    b.error = HeadError{501, "Transfer-Encoding request bodies are not supported; send Content-Length"};
    return b;
  }
  int count = 0;
  for (const auto& [k, v] : req.headers) {
    if (k != "content-length") continue;
    size_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || v.empty()) {
      b.error = HeadError{400, "malformed Content-Length"};
      return b;
    }
    if (count++ > 0 && n != b.length) {
      b.error = HeadError{400, "conflicting Content-Length headers"};
      return b;
    }
    b.length = n;
  }
  return b;
}

bool WantsKeepAlive(const HttpRequest& req) {
  const std::string_view c = req.Header("connection");
  if (req.version == "HTTP/1.0") return ContainsToken(c, "keep-alive");
  return !ContainsToken(c, "close");
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

}  // namespace g3n::server
