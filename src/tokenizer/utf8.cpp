#include "tokenizer/utf8.h"

namespace g3n::utf8 {

size_t Decode(std::string_view s, size_t i, char32_t* cp, size_t* bad_len) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  // Allowed range of the second byte and total length per lead byte (Unicode Table 3-7).
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  }
  size_t ok = 1;  // bytes that still fit a well-formed sequence
  if (n != 0) {
    for (; ok < n && i + ok < s.size(); ++ok) {
      const uint8_t x = b(i + ok);
      if (ok == 1 ? (x < lo || x > hi) : (x < 0x80 || x > 0xBF)) break;
    }
    if (ok == n) {
      char32_t v = c & (0xFF >> (n + 1));
      for (size_t k = 1; k < n; ++k) v = (v << 6) | (b(i + k) & 0x3F);
      *cp = v;
      return n;
    }
  }
  if (bad_len != nullptr) *bad_len = ok;
  return 0;
}

bool IsValid(std::string_view s) {
  size_t i = 0;
  char32_t cp;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = Decode(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string Sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  char32_t cp;
  while (i < s.size()) {
    size_t bad = 0;
    const size_t n = Decode(s, i, &cp, &bad);
    if (n != 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      Append(out, kReplacement);
      i += bad;
    }
  }
  return out;
}

void Append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace g3n::utf8
