// Media files built in memory for tests: a 24-bit BMP of CHW pixels, a 16 kHz 16-bit WAV, and
// the 1 s clip of tests/fixtures/tiny-audio's prompt (its int16 formula signal).
#pragma once
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

namespace g3n::testing {

inline void Put16(std::vector<uint8_t>& b, uint32_t v) {
  b.push_back(v & 0xff);
  b.push_back((v >> 8) & 0xff);
}
inline void Put32(std::vector<uint8_t>& b, uint32_t v) {
  Put16(b, v & 0xffff);
  Put16(b, v >> 16);
}

// A 24-bit bottom-up BMP of CHW uint8 pixels.
inline std::vector<uint8_t> Bmp(const uint8_t* chw, int w, int h) {
  const uint32_t stride = (static_cast<uint32_t>(w) * 3 + 3) & ~3u, size = 54 + stride * static_cast<uint32_t>(h);
  std::vector<uint8_t> b = {'B', 'M'};
  Put32(b, size);
  Put32(b, 0);
  Put32(b, 54);
  Put32(b, 40);
  Put32(b, static_cast<uint32_t>(w));
  Put32(b, static_cast<uint32_t>(h));
  Put16(b, 1);
  Put16(b, 24);
  for (int i = 0; i < 6; ++i) Put32(b, 0);
  const size_t plane = static_cast<size_t>(w) * h;
  for (int y = h - 1; y >= 0; --y) {
    for (int x = 0; x < w; ++x)
      for (int c = 2; c >= 0; --c) b.push_back(chw[c * plane + static_cast<size_t>(y) * w + x]);
    for (uint32_t p = static_cast<uint32_t>(w) * 3; p < stride; ++p) b.push_back(0);
  }
  return b;
}

// 16 kHz mono 16-bit PCM WAV.
inline std::vector<uint8_t> Wav(const std::vector<int16_t>& s) {
  std::vector<uint8_t> b = {'R', 'I', 'F', 'F'};
  Put32(b, 36 + 2 * static_cast<uint32_t>(s.size()));
  for (char c : std::string("WAVEfmt ")) b.push_back(static_cast<uint8_t>(c));
  Put32(b, 16);
  Put16(b, 1);
  Put16(b, 1);
  Put32(b, 16000);
  Put32(b, 32000);
  Put16(b, 2);
  Put16(b, 16);
  for (char c : std::string("data")) b.push_back(static_cast<uint8_t>(c));
  Put32(b, 2 * static_cast<uint32_t>(s.size()));
  for (int16_t v : s) Put16(b, static_cast<uint16_t>(v));
  return b;
}

// Samples 480000..496000 of the fixture's formula signal.
inline std::vector<int16_t> TinyAudioClip() {
  std::vector<int16_t> pcm;
  for (int i = 480000; i < 496000; ++i) {
    const double k = i, pi = std::numbers::pi;
    pcm.push_back(static_cast<int16_t>(std::nearbyint(8000.0 * std::sin(2 * pi * 440.0 * k / 16000) +
                                                      4000.0 * std::sin(2 * pi * (150.0 + 0.25 * k / 16000) * k / 16000))));
  }
  return pcm;
}

}  // namespace g3n::testing
