// gemma3n transcribe FILE: speech to text (or, with --translate-to LANG, to another language) for
// audio of any length. The file is decoded once and cut into consecutive 30 s chunks, the most
// the audio encoder takes; each chunk is asked about in a fresh conversation and printed with
// its time span as soon as it is done.
//
//   transcribe --model DIR FILE [--translate-to LANG] [--prompt TEXT] [-n 256] [--json]
#include <cstdio>
#include <string>
#include <vector>

#include "audio/audio_clips.h"
#include "audio/audio_decode.h"
#include "audio/wav_writer.h"
#include "cli/api_model.h"
#include "cli/common.h"

namespace g3n::cli {
namespace {

std::string Clock(double s) {
  char buf[32];
  const int ms = static_cast<int>(s * 1000.0 + 0.5);
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += static_cast<char>(c);
    else if (c == '\n') o += "\\n";
    else if (c < 0x20) {
      char u[8];
      std::snprintf(u, sizeof u, "\\u%04x", c);
      o += u;
    } else o += static_cast<char>(c);
  }
  return o + "\"";
}

int Collect(void* user, int32_t, const char* text, size_t len) {
  static_cast<std::string*>(user)->append(text, len);
  return 0;
}

}  // namespace

int TranscribeCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "submodel", "file", "translate-to", "prompt", "n", "t", "threads", "ctx",
                               "chunk", "kv-type", "tokenizer", "json", "mmproj", "encoder-type", "memory-limit"});
  if (!st.ok()) return Fail(st);
  const std::string file = args.Get("file");
  if (file.empty()) return Fail(Error("transcribe needs an audio file: gemma3n transcribe --model DIR FILE"));
  auto audio = DecodeAudioFile(file);
  if (!audio.ok()) return Fail(audio.status());
  if (audio->samples.empty()) return Fail(Error(file + ": no audio samples"));
  const std::vector<std::vector<float>> chunks = SplitIntoClips(audio->samples);
  auto m = LoadApiModel(args);
  if (!m.ok()) return Fail(m.status());
  auto go = GenerateOptionsFromArgs(args, (*m)->model, 256);
  if (!go.ok()) return Fail(go.status());
  go->greedy = 1;
  const std::string lang = args.Get("translate-to");
  const std::string ask = args.Has("prompt") ? args.Get("prompt") : TranscriptionPrompt(lang);
  if (chunks.size() > 1)
    std::fprintf(stderr, "[%s: %.1f s of audio, transcribed in %zu chunks of up to 30 s]\n", file.c_str(),
                 audio->seconds(), chunks.size());
  auto session = NewSession((*m)->model);
  if (!session.ok()) return Fail(session.status());
  double start = 0.0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const double end = start + static_cast<double>(chunks[i].size()) / kAudioSampleRate;
    const std::vector<uint8_t> wav = EncodeWavF32(chunks[i], kAudioSampleRate);
    g3n_session* s = session->get();
    g3n_session_reset(s);
    g3n_status gs = g3n_session_add_audio(s, wav.data(), wav.size());
    if (gs == G3N_OK) gs = g3n_session_add_message(s, "user", ask.c_str());
    std::string text;
    if (gs == G3N_OK) gs = g3n_session_generate(s, &*go, Collect, &text, nullptr);
    if (gs != G3N_OK) return Fail(Error("chunk " + std::to_string(i + 1) + ": " + ApiFailure(gs).message()));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (args.Has("json"))
      std::printf("{\"start\": %.3f, \"end\": %.3f, \"text\": %s}\n", start, end, JsonString(text).c_str());
    else
      std::printf("[%s --> %s] %s\n", Clock(start).c_str(), Clock(end).c_str(), text.c_str());
    std::fflush(stdout);
    start = end;
  }
  return 0;
}

}  // namespace g3n::cli
