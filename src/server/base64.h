// Base64 (RFC 4648, standard alphabet): the payloads of data URLs and input_audio parts.
// Decoding is strict ('=' padding optional, no whitespace): anything else is an error, not a guess.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace g3n::server {

std::optional<std::string> DecodeBase64(std::string_view in);
std::string EncodeBase64(std::string_view in);  // with '=' padding

// "data:<mime>;base64,<payload>" -> the decoded payload; nullopt if not such a URL or invalid.
std::optional<std::string> DecodeDataUrl(std::string_view url, std::string* mime = nullptr);

}  // namespace g3n::server
