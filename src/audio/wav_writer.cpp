#include "audio/wav_writer.h"

#include <cstring>

namespace g3n {

std::vector<uint8_t> EncodeWavF32(const std::vector<float>& s, int rate) {
  const uint32_t data = static_cast<uint32_t>(s.size() * 4);
  std::vector<uint8_t> b(44 + static_cast<size_t>(data));
  auto put = [&](size_t at, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
  };
  std::memcpy(&b[0], "RIFF", 4);
  put(4, 36 + data, 4);
  std::memcpy(&b[8], "WAVEfmt ", 8);
  put(16, 16, 4);
  put(20, 3, 2);  // IEEE float
  put(22, 1, 2);
  put(24, static_cast<uint32_t>(rate), 4);
  put(28, static_cast<uint32_t>(rate) * 4, 4);
  put(32, 4, 2);
  put(34, 32, 2);
  std::memcpy(&b[36], "data", 4);
  put(40, data, 4);
  if (data > 0) std::memcpy(&b[44], s.data(), data);
  return b;
}

std::string TranscriptionPrompt(const std::string& translate_to) {
  return translate_to.empty() ? "Transcribe this audio clip." : "Translate this audio clip into " + translate_to + ".";
}

}  // namespace g3n
