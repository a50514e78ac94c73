// multipart/form-data bodies (RFC 7578), as OpenAI's client sends audio files to
// /v1/audio/transcriptions: each part's name, optional filename and bytes.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace g3n::server {

struct FormPart {
  std::string name;
  std::string filename;
  std::string content_type;
  std::string data;
};

// `content_type` is the request's header (it carries the boundary). nullopt: not multipart, no
// boundary, or a malformed body; *why says which.
std::optional<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body,
                                                    std::string* why);

}  // namespace g3n::server
