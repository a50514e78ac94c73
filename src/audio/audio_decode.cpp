#include "audio/audio_decode.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "audio/resampler.h"
#include "io/mapped_file.h"

namespace g3n {
namespace {

constexpr sf_count_t kChunkFrames = 16384;

// libsndfile reads memory through these callbacks (its "virtual I/O"), so files and buffers
// share one decoding path.
struct MemorySource {
  const uint8_t* data;
  sf_count_t size;
  sf_count_t pos;
};

sf_count_t VioLength(void* user) { return static_cast<MemorySource*>(user)->size; }

sf_count_t VioSeek(sf_count_t offset, int whence, void* user) {
  auto* m = static_cast<MemorySource*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
  const sf_count_t target = base + offset;
  if (target < 0) return -1;  // past the end is allowed, as for a real file: reads return 0 there
  m->pos = target;
  return m->pos;
}

sf_count_t VioRead(void* ptr, sf_count_t count, void* user) {
  auto* m = static_cast<MemorySource*>(user);
  const sf_count_t n = std::clamp<sf_count_t>(m->size - m->pos, 0, std::max<sf_count_t>(count, 0));
  if (n > 0) std::memcpy(ptr, m->data + m->pos, static_cast<size_t>(n));
  m->pos += n;
  return n;
}

sf_count_t VioWrite(const void*, sf_count_t, void*) { return 0; }
sf_count_t VioTell(void* user) { return static_cast<MemorySource*>(user)->pos; }

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

std::string FormatName(int format) {
  auto name = [](int code) {
    SF_FORMAT_INFO fi{};
    fi.format = code;
    return sf_command(nullptr, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) == 0 && fi.name ? std::string(fi.name) : "?";
  };
  return name(format & SF_FORMAT_TYPEMASK) + " / " + name(format & SF_FORMAT_SUBMASK);
}

// libsndfile quietly shortens a WAV whose data chunk runs past the end of the file and only
// notes it in its log ("data : 8000 (should be 7195)"). A cut-off upload must not pass as a
// shorter clip, so that note is an error, except for the 0 / 0xFFFFFFFF sizes that streaming
// writers leave when they cannot seek back.
Status CheckWavDataChunk(SNDFILE* file, const std::string& name) {
  char log[8192] = {};
  sf_command(file, SFC_GET_LOG_INFO, log, sizeof(log));
  const char* line = std::strstr(log, "\ndata : ");
  if (line == nullptr) return Status();
  long long declared = 0, actual = 0;
  if (std::sscanf(line, "\ndata : %lld (should be %lld)", &declared, &actual) != 2) return Status();
  if (declared > actual && declared != 0 && declared < 0xFFFFFFF0LL) {
    return Error(name + ": truncated: the WAV data chunk declares " + std::to_string(declared) + " bytes but only " +
                 std::to_string(actual) + " are present");
  }
  return Status();
}

Status CheckHeader(const SF_INFO& info, int64_t max_frames, const std::string& name) {
  if (info.samplerate <= 0 || info.samplerate > kMaxAudioSourceRate) {
    return Error(name + ": unsupported sample rate " + std::to_string(info.samplerate) + " Hz (accepted: 1.." +
                 std::to_string(kMaxAudioSourceRate) + ")");
  }
  if (info.channels <= 0 || info.channels > kMaxAudioChannels) {
    return Error(name + ": unsupported channel count " + std::to_string(info.channels) + " (accepted: 1.." +
                 std::to_string(kMaxAudioChannels) + ")");
  }
  if (info.frames == 0) return Error(name + ": no audio samples (empty, or cut off before the first one)");
  if (info.frames > max_frames && info.frames != SF_COUNT_MAX) {
    return Error(name + ": audio is " + std::to_string(info.frames / info.samplerate) + " s long; the limit is " +
                 std::to_string(max_frames / info.samplerate) + " s");
  }
  return Status();
}

// Averages the channels of `frames` interleaved frames; rejects NaN/Inf so they cannot
// poison the features downstream.
Status Downmix(const float* in, sf_count_t frames, int channels, int64_t first_frame, const std::string& name,
               float* out) {
  for (sf_count_t i = 0; i < frames; ++i) {
    float sum = 0.0f;
    for (int c = 0; c < channels; ++c) sum += in[i * channels + c];
    out[i] = channels == 1 ? sum : sum / static_cast<float>(channels);
    if (!std::isfinite(out[i])) {
      return Error(name + ": non-finite sample at frame " + std::to_string(first_frame + i));
    }
  }
  return Status();
}

}  // namespace

Result<DecodedAudio> DecodeAudioMemory(const void* data, size_t size, const AudioDecodeOptions& options,
                                       const std::string& name) {
  if (data == nullptr || size == 0) return Error(name + ": empty input (0 bytes)");
  const int target = options.target_sample_rate;
  if (target < 0 || target > kMaxAudioSourceRate) {
    return Error(name + ": invalid target sample rate " + std::to_string(target));
  }
  MemorySource src{static_cast<const uint8_t*>(data), static_cast<sf_count_t>(size), 0};
  SF_VIRTUAL_IO vio{VioLength, VioSeek, VioRead, VioWrite, VioTell};
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open_virtual(&vio, SFM_READ, &info, &src));
  if (!file) {
    // On memory input libsndfile's "file does not exist" really means it gave up parsing.
    std::string why = sf_strerror(nullptr);
    if (why.find("does not exist") != std::string::npos) why = "malformed or unrecognised audio data";
    return Error(name + ": not a readable audio file (" + why + ")");
  }

  const double max_frames_d = std::max(0.0, options.max_seconds) * std::max(info.samplerate, 0);
  const auto max_frames = static_cast<int64_t>(std::min(max_frames_d, 9.0e18));
  G3N_RETURN_IF_ERROR(CheckHeader(info, max_frames, name));
  const int major = info.format & SF_FORMAT_TYPEMASK;
  if (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64) {
    G3N_RETURN_IF_ERROR(CheckWavDataChunk(file.get(), name));
  }

  DecodedAudio out;
  out.source_sample_rate = info.samplerate;
  out.source_channels = info.channels;
  out.source_format = FormatName(info.format);
  out.sample_rate = target == 0 ? info.samplerate : target;

  std::unique_ptr<Resampler> resampler;
  if (out.sample_rate != info.samplerate) {
    G3N_ASSIGN_OR_RETURN(resampler, Resampler::Create(info.samplerate, out.sample_rate));
  }
  const bool known_length = info.frames > 0 && info.frames != SF_COUNT_MAX;
  if (known_length) {
    out.samples.reserve(static_cast<size_t>(static_cast<double>(info.frames) * out.sample_rate / info.samplerate) + 16);
  }

  std::vector<float> interleaved(static_cast<size_t>(kChunkFrames) * info.channels);
  std::vector<float> mono(kChunkFrames);
  int64_t total = 0;
  for (;;) {
    const sf_count_t got = sf_readf_float(file.get(), interleaved.data(), kChunkFrames);
    if (got <= 0) break;
    G3N_RETURN_IF_ERROR(Downmix(interleaved.data(), got, info.channels, total, name, mono.data()));
    total += got;
    if (total > max_frames) {
      return Error(name + ": audio is longer than the limit of " + std::to_string(max_frames / info.samplerate) + " s");
    }
    if (resampler) {
      G3N_RETURN_IF_ERROR(resampler->Process(mono.data(), static_cast<size_t>(got), &out.samples));
    } else {
      out.samples.insert(out.samples.end(), mono.begin(), mono.begin() + got);
    }
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
    return Error(name + ": decoding failed after " + std::to_string(total) + " frames (" + sf_strerror(file.get()) +
                 ")");
  }
  if (total == 0) return Error(name + ": no audio samples (empty, or cut off before the first one)");
  if (known_length && total < info.frames) {
    return Error(name + ": truncated or corrupt: decoded " + std::to_string(total) + " of the " +
                 std::to_string(info.frames) + " frames the header announces");
  }
  if (resampler) G3N_RETURN_IF_ERROR(resampler->Finish(&out.samples));
  out.source_frames = total;
  return out;
}

Result<DecodedAudio> DecodeAudioFile(const std::string& path, const AudioDecodeOptions& options) {
  G3N_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path));
  return DecodeAudioMemory(file->data(), file->size(), options, path);
}

}  // namespace g3n
