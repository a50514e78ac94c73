#include "server/multipart.h"

#include <algorithm>
#include <cctype>

namespace g3n::server {
namespace {

std::string Lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

// The value of `key=` in a header's parameters ("form-data; name=\"file\""), quotes removed.
std::string Param(std::string_view header, std::string_view key) {
  const std::string lower = Lower(header);
  size_t at = 0;
  while ((at = lower.find(std::string(key) + "=", at)) != std::string::npos) {
    if (at == 0 || lower[at - 1] == ';' || lower[at - 1] == ' ') break;
    ++at;
  }
  if (at == std::string::npos) return "";
  std::string_view v = header.substr(at + key.size() + 1);
  if (!v.empty() && v[0] == '"') {
    const size_t end = v.find('"', 1);
    return std::string(v.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1));
  }
  return std::string(v.substr(0, v.find(';')));
}

}  // namespace

std::optional<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body,
                                                    std::string* why) {
  if (Lower(content_type).rfind("multipart/form-data", 0) != 0) {
    *why = "the body must be multipart/form-data";
    return std::nullopt;
  }
  const std::string boundary = Param(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200) {
    *why = "multipart/form-data without a valid boundary";
    return std::nullopt;
  }
  const std::string delim = "--" + boundary;
  std::vector<FormPart> parts;
  size_t at = body.find(delim);
  if (at == std::string_view::npos) {
    *why = "no multipart boundary in the body";
    return std::nullopt;
  }
  while (true) {
    at += delim.size();
    if (body.substr(at, 2) == "--") return parts;  // closing delimiter
    if (body.substr(at, 2) != "\r\n") break;
    at += 2;
    const size_t head_end = body.find("\r\n\r\n", at);
    if (head_end == std::string_view::npos) break;
    FormPart p;
    for (size_t line = at; line < head_end;) {
      const size_t eol = std::min(body.find("\r\n", line), head_end);
      const std::string_view h = body.substr(line, eol - line);
      const size_t colon = h.find(':');
      if (colon != std::string_view::npos) {
        const std::string key = Lower(h.substr(0, colon));
        std::string_view val = h.substr(colon + 1);
        while (!val.empty() && val[0] == ' ') val.remove_prefix(1);
        if (key == "content-disposition") {
          p.name = Param(val, "name");
          p.filename = Param(val, "filename");
        } else if (key == "content-type") {
          p.content_type = std::string(val);
        }
      }
      line = eol + 2;
    }
    const size_t data = head_end + 4;
    const size_t next = body.find("\r\n" + delim, data);
    if (next == std::string_view::npos) break;
    p.data = std::string(body.substr(data, next - data));
    parts.push_back(std::move(p));
    at = next + 2;
  }
  *why = "malformed multipart body (a part or the closing boundary is missing)";
  return std::nullopt;
}

}  // namespace g3n::server
