// Audio decoding: every fixture format decodes (downmixed, resampled to 16 kHz) to the samples
// of the reference pipeline (python-soundfile + python-soxr VHQ), long audio splits into 30 s
// clips, and every kind of bad input is an error rather than a crash.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "audio/audio_clips.h"
#include "audio/audio_decode.h"
#include "audio/mel_features.h"
#include "audio_test_util.h"

namespace g3n {
namespace {

using testing::Diff;
using testing::FixtureDir;
using testing::RefFloats;
using testing::Report;

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string AudioPath(const std::string& name) { return FixtureDir("audio/" + name); }

struct FormatCase {
  const char* file;
  int rate;
  int channels;
  double max_tol;  // on max|Δ| of the 16 kHz samples
};

// Lossless 16 kHz files go through the same libsndfile conversions as the reference, so they must
// agree to float rounding; resampled files compare two builds of libsoxr; the lossy codecs two
// builds of mpg123 / libvorbis.
const FormatCase kFormats[] = {
    {"tone_16k_u8.wav", 16000, 1, 1e-7},    {"tone_16k_s16.wav", 16000, 1, 1e-7},
    {"tone_16k_s24.wav", 16000, 1, 1e-7},   {"tone_16k_s32.wav", 16000, 1, 1e-7},
    {"tone_16k_f32.wav", 16000, 1, 1e-7},   {"tone_16k_f64.wav", 16000, 1, 1e-7},
    {"tone_16k_ext.wav", 16000, 1, 1e-7},   {"chirp_22k_s24.wav", 22050, 1, 1e-4},
    {"noise_48k_f32.wav", 48000, 1, 1e-4},  {"silence_16k.wav", 16000, 1, 0.0},
    {"short_16k.wav", 16000, 1, 1e-7},      {"tiny_16k.wav", 16000, 1, 1e-7},
    {"stereo_44k.wav", 44100, 2, 1e-4},     {"stereo_44k.flac", 44100, 2, 1e-4},
    {"speech_16k.wav", 16000, 1, 1e-7},     {"speech_16k.flac", 16000, 1, 1e-7},
    {"speech_16k.mp3", 16000, 1, 1e-3},     {"speech_16k.ogg", 16000, 1, 1e-3},
};

class AudioDecodeFormatTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(AudioDecodeFormatTest, MatchesReferenceSamples) {
  const FormatCase& c = GetParam();
  auto r = DecodeAudioFile(AudioPath(c.file));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->sample_rate, 16000);
  EXPECT_EQ(r->source_sample_rate, c.rate);
  EXPECT_EQ(r->source_channels, c.channels);
  const std::vector<float> want = RefFloats(std::string(c.file) + ".samples");
  ASSERT_EQ(r->samples.size(), want.size()) << "16 kHz length differs from the reference resampler's";
  const auto d = Diff(r->samples.data(), want.data(), want.size());
  Report(std::string(c.file) + " samples", d);
  EXPECT_LE(d.max, c.max_tol) << c.file;

  // End to end: features of our decode vs transformers' features of the reference decode.
  const MelFeatures f = LogMelExtractor().Extract(r->samples);
  const std::vector<float> want_f = RefFloats(std::string(c.file) + ".features");
  ASSERT_EQ(f.values.size(), want_f.size());
  const auto fd = testing::MelDiff(f.values.data(), want_f.data(), static_cast<size_t>(f.frames), 128);
  testing::ReportMel(std::string(c.file) + " features (end to end)", fd);
  EXPECT_LE(fd.max_strong, 1e-3) << c.file;
}

TEST_P(AudioDecodeFormatTest, MemoryEqualsFile) {
  const FormatCase& c = GetParam();
  const std::vector<uint8_t> bytes = ReadBytes(AudioPath(c.file));
  auto a = DecodeAudioFile(AudioPath(c.file));
  auto b = DecodeAudioMemory(bytes.data(), bytes.size());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->samples, b->samples);
}

INSTANTIATE_TEST_SUITE_P(Formats, AudioDecodeFormatTest, ::testing::ValuesIn(kFormats),
                         [](const auto& info) {
                           std::string n = info.param.file;
                           for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

TEST(AudioDecode, KeepsSourceRateWhenAsked) {
  AudioDecodeOptions opt;
  opt.target_sample_rate = 0;
  auto r = DecodeAudioFile(AudioPath("stereo_44k.wav"), opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->sample_rate, 44100);
  EXPECT_EQ(r->samples.size(), 17640u);
}

TEST(AudioClips, SplitKeepsEverySample) {
  std::vector<float> x(2 * kAudioClipSamples + 7);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  const auto clips = SplitIntoClips(x);
  ASSERT_EQ(clips.size(), 3u);
  EXPECT_EQ(clips[0].size(), kAudioClipSamples);
  EXPECT_EQ(clips[1].size(), kAudioClipSamples);
  EXPECT_EQ(clips[2].size(), 7u);
  EXPECT_EQ(clips[1][0], static_cast<float>(kAudioClipSamples));
  EXPECT_EQ(clips[2][6], static_cast<float>(x.size() - 1));
  EXPECT_TRUE(SplitIntoClips(std::span<const float>()).empty());
  EXPECT_EQ(SplitIntoClips(std::span<const float>(x.data(), kAudioClipSamples)).size(), 1u);
  EXPECT_EQ(SplitIntoClips(std::span<const float>(x.data(), kAudioClipSamples + 1)).size(), 2u);
}

// A 31 s FLAC at 8 kHz: decode, resample, split into 30 s + 1 s, features of both clips.
TEST(AudioClips, Long8kFlacSplitsAndMatches) {
  const std::string name = "long_31s_8k.flac";
  auto r = DecodeAudioFile(AudioPath(name));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->samples.size(), 496000u);
  const auto ranges = testing::RefInts<int32_t>(name + ".sample_ranges");
  const auto want = RefFloats(name + ".samples");
  std::vector<float> got;
  for (size_t i = 0; i + 1 < ranges.size(); i += 2) {
    got.insert(got.end(), r->samples.begin() + ranges[i], r->samples.begin() + ranges[i + 1]);
  }
  ASSERT_EQ(got.size(), want.size());
  const auto d = Diff(got.data(), want.data(), want.size());
  Report(name + " samples (3 ranges)", d);
  EXPECT_LE(d.max, 1e-4);

  const auto clips = SplitIntoClips(r->samples);
  ASSERT_EQ(clips.size(), 2u);
  EXPECT_EQ(clips[0].size(), 480000u);
  EXPECT_EQ(clips[1].size(), 16000u);
  LogMelExtractor fe;
  const MelFeatures f0 = fe.Extract(clips[0]);
  const MelFeatures f1 = fe.Extract(clips[1]);
  EXPECT_EQ(f0.frames, 2997);
  const auto frames = testing::RefInts<int32_t>("long.frame_ranges");
  std::vector<float> got0;
  for (size_t i = 0; i + 1 < frames.size(); i += 2) {
    got0.insert(got0.end(), f0.values.begin() + frames[i] * 128, f0.values.begin() + frames[i + 1] * 128);
  }
  const auto want0 = RefFloats(name + ".clip0_features");
  const auto want1 = RefFloats(name + ".clip1_features");
  ASSERT_EQ(got0.size(), want0.size());
  ASSERT_EQ(f1.values.size(), want1.size());
  testing::ReportMel(name + " clip 0 features (end to end)",
                     testing::MelDiff(got0.data(), want0.data(), want0.size() / 128, 128));
  testing::ReportMel(name + " clip 1 features (end to end)",
                     testing::MelDiff(f1.values.data(), want1.data(), want1.size() / 128, 128));
  EXPECT_EQ(f1.mask, testing::RefBytes(name + ".clip1_mask"));
}

// ---- bad input -------------------------------------------------------------------------------

void Put(std::vector<uint8_t>& b, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A canonical RIFF/WAVE file; `declared_data` overrides the data chunk size.
std::vector<uint8_t> MakeWav(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits,
                             const std::vector<uint8_t>& data, int64_t declared_data = -1) {
  std::vector<uint8_t> b;
  const uint32_t dsize = declared_data < 0 ? static_cast<uint32_t>(data.size()) : static_cast<uint32_t>(declared_data);
  const uint16_t align = static_cast<uint16_t>(channels * bits / 8);
  b.insert(b.end(), {'R', 'I', 'F', 'F'});
  Put(b, static_cast<uint32_t>(36 + data.size()), 4);
  b.insert(b.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  Put(b, 16, 4);
  Put(b, tag, 2);
  Put(b, channels, 2);
  Put(b, rate, 4);
  Put(b, rate * align, 4);
  Put(b, align, 2);
  Put(b, bits, 2);
  b.insert(b.end(), {'d', 'a', 't', 'a'});
  Put(b, dsize, 4);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void ExpectError(const std::vector<uint8_t>& bytes, const std::string& what, const AudioDecodeOptions& opt = {}) {
  auto r = DecodeAudioMemory(bytes.data(), bytes.size(), opt, what);
  ASSERT_FALSE(r.ok()) << what << ": decoded " << r->samples.size() << " samples";
  EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
  std::printf("[ error    ] %s\n", r.status().message().c_str());
}

std::vector<uint8_t> Pcm16(size_t frames) { return std::vector<uint8_t>(frames * 2, 0x11); }

TEST(AudioDecodeBadInput, EmptyAndGarbage) {
  ExpectError({}, "empty");
  std::vector<uint8_t> garbage(5000);
  uint32_t s = 12345;
  for (auto& v : garbage) v = static_cast<uint8_t>((s = s * 1103515245u + 12345u) >> 24);
  ExpectError(garbage, "garbage");
  const std::string text = "this is not audio, just some text in a .wav-named upload\n";
  ExpectError(std::vector<uint8_t>(text.begin(), text.end()), "text");
  ExpectError({'R', 'I', 'F', 'F', 0x10, 0, 0, 0, 'W', 'A'}, "header-only");
  auto missing = DecodeAudioFile(AudioPath("no_such_file.wav"));
  EXPECT_FALSE(missing.ok());
}

TEST(AudioDecodeBadInput, AbsurdHeaders) {
  ExpectError(MakeWav(1, 1, 0, 16, Pcm16(100)), "rate-0");
  ExpectError(MakeWav(1, 1, 500000, 16, Pcm16(100)), "rate-500k");
  ExpectError(MakeWav(1, 0, 16000, 16, Pcm16(100)), "channels-0");
  ExpectError(MakeWav(1, 65, 16000, 16, Pcm16(65 * 10)), "channels-65");
  ExpectError(MakeWav(0x1234, 1, 16000, 16, Pcm16(100)), "unknown-format-tag");
  ExpectError(MakeWav(1, 1, 16000, 16, {}), "zero-length");
}

TEST(AudioDecodeBadInput, NonFiniteSamples) {
  std::vector<uint8_t> data(4 * 64, 0);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(data.data() + 4 * 10, &nan, 4);
  ExpectError(MakeWav(3, 1, 16000, 32, data), "nan-float-wav");
}

TEST(AudioDecodeBadInput, TooLong) {
  // 20000 one-byte frames at 1 Hz: a 20 KB file that claims 5.5 hours.
  ExpectError(MakeWav(1, 1, 1, 8, std::vector<uint8_t>(20000, 128)), "5.5-hours");
  AudioDecodeOptions opt;
  opt.max_seconds = 30;
  const auto bytes = ReadBytes(AudioPath("long_31s_8k.flac"));
  ExpectError(bytes, "31s-over-30s-limit", opt);
}

TEST(AudioDecodeBadInput, TruncatedAndCorrupt) {
  for (const char* name : {"tone_16k_s16.wav", "tone_16k_ext.wav", "stereo_44k.flac", "speech_16k.mp3",
                           "speech_16k.ogg", "long_31s_8k.flac"}) {
    const auto bytes = ReadBytes(AudioPath(name));
    ASSERT_FALSE(bytes.empty()) << name;
    for (double keep : {0.9, 0.5, 0.05}) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() * keep));
      ExpectError(cut, std::string(name) + " cut to " + std::to_string(static_cast<int>(keep * 100)) + "%");
    }
  }
  // Compressed streams with scrambled bytes in the middle.
  for (const char* name : {"stereo_44k.flac", "speech_16k.mp3", "speech_16k.ogg"}) {
    auto bytes = ReadBytes(AudioPath(name));
    for (size_t k = bytes.size() / 3; k < bytes.size() / 3 + 200; ++k) bytes[k] ^= 0x5a;
    ExpectError(bytes, std::string(name) + " scrambled");
  }
}

TEST(AudioDecodeBadInput, BadTargetRate) {
  const auto bytes = ReadBytes(AudioPath("tone_16k_s16.wav"));
  AudioDecodeOptions opt;
  opt.target_sample_rate = -5;
  ExpectError(bytes, "negative-target", opt);
}

}  // namespace
}  // namespace g3n
