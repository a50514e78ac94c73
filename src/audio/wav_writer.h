// 32-bit float mono WAV in memory: how a cut piece of decoded audio goes back through the
// byte-based media API (g3n_session_add_audio), losslessly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace g3n {

std::vector<uint8_t> EncodeWavF32(const std::vector<float>& samples, int sample_rate);

// The request the `transcribe` command and the transcription endpoint put to the model with
// each clip: transcription, or translation when `translate_to` names a language.
std::string TranscriptionPrompt(const std::string& translate_to);

}  // namespace g3n
