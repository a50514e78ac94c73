// UTF-8 helpers for the tokenizer: strict decoding (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF) and repair of invalid input. "Invalid" is decided per maximal subpart, as Unicode §3.9 recommends and as Python's
// bytes.decode('utf-8', errors='replace') does, so repaired text matches what a Python user
// would hand the reference tokenizer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace g3n::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// Length (1..4) of the well-formed sequence at s[i] (decoded into *cp), or 0 if there is none;
// then *bad_len (if given) receives the length (>= 1) of the maximal subpart to replace.
size_t Decode(std::string_view s, size_t i, char32_t* cp, size_t* bad_len = nullptr);

bool IsValid(std::string_view s);

// Replaces every maximal invalid subpart by U+FFFD (EF BF BD). Valid input comes back unchanged.
std::string Sanitize(std::string_view s);

void Append(std::string& out, char32_t cp);

}  // namespace g3n::utf8
