// The web chat page served at / : plain HTML, CSS and JavaScript compiled into the binary
// (web/*.cpp hold them as raw string literals), so the server needs no files at run time.
#pragma once
#include <string_view>

namespace g3n::server {

struct WebAsset {
  std::string_view path;          // "/", "/chat.js", ...
  std::string_view content_type;
  std::string_view body;
};

// The asset served at `path`, or nullptr.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace g3n::server
