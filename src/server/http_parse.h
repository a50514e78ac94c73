// Parsing an HTTP/1.1 request head (request line + header fields), strictly: the server
// answers anything malformed with 400 rather than guessing.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "server/http_types.h"

namespace g3n::server {

struct HeadError {
  int status;  // 400, 431, 501, 505
  std::string message;
};

// Offset just past the "\r\n\r\n" that ends the head in `buf`, or npos if not there yet.
size_t FindHeadEnd(std::string_view buf);

// Parses `head` (up to and including the blank line) into `req` (method, target, path, version,
// headers). Fails on a malformed request line or field, or an unsupported version.
std::optional<HeadError> ParseHead(std::string_view head, HttpRequest* req);

// The body length the head announces: Content-Length (0 when absent). Transfer-Encoding
// bodies are refused (501): clients of this API send Content-Length.
struct BodyLength {
  size_t length = 0;
  std::optional<HeadError> error;
};
BodyLength RequestBodyLength(const HttpRequest& req);

// HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0 closes unless keep-alive.
bool WantsKeepAlive(const HttpRequest& req);

}  // namespace g3n::server
