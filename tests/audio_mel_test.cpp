// Log-mel front end vs transformers' Gemma3nAudioFeatureExtractor: the spec's golden vector,
// every fixture clip fed with the reference's own 16 kHz samples (so only the feature math is
// compared), batch padding and masks, the 30 s cut, threading, the FFT and config parsing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <complex>
#include <numbers>
#include <span>
#include <string>
#include <vector>
#include <cstdlib>

#include "audio/audio_clips.h"
#include "audio/mel_features.h"
#include "audio/real_fft.h"
#include "audio_test_util.h"
#include "kernels/thread_pool.h"

namespace g3n {
namespace {

using testing::RefBytes;
using testing::RefFloats;

// Fed the reference samples, our features must match transformers' to kStrongTol in ln-mel on the
// bins that carry the signal, and to kPeakRelTol of the frame's peak energy everywhere (see
// MelDiff for why the deep valleys of pure tones cannot match to 1e-4).
constexpr double kStrongTol = 1e-4;
constexpr double kPeakRelTol = 1e-6;

void ExpectMelClose(const std::string& what, const std::vector<float>& got, const float* want, size_t frames) {
  ASSERT_EQ(got.size(), frames * 128) << what;
  const auto d = testing::MelDiff(got.data(), want, frames, 128);
  testing::ReportMel(what, d);
  EXPECT_LE(d.max_strong, kStrongTol) << what;
  EXPECT_LE(d.max_peak_rel, kPeakRelTol) << what;
}

const char* const kClips[] = {
    "tone_16k_u8.wav",   "tone_16k_s16.wav", "tone_16k_s24.wav",  "tone_16k_s32.wav", "tone_16k_f32.wav",
    "tone_16k_f64.wav",  "tone_16k_ext.wav", "chirp_22k_s24.wav", "noise_48k_f32.wav", "silence_16k.wav",
    "short_16k.wav",     "tiny_16k.wav",     "stereo_44k.wav",    "stereo_44k.flac",  "speech_16k.wav",
    "speech_16k.flac",   "speech_16k.mp3",   "speech_16k.ogg",
};

TEST(MelFeatures, GoldenVectorFromSpec) {
  const int n = 20837;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) {
    const double t = i / 16000.0, pi = std::numbers::pi;
    x[static_cast<size_t>(i)] = static_cast<float>(0.4 * std::sin(2 * pi * 220 * t) +
                                                   0.2 * std::sin(2 * pi * (300 + 900 * t) * t) +
                                                   0.05 * std::sin(2 * pi * 3100 * t));
  }
  const MelFeatures f = LogMelExtractor().Extract(x);
  ASSERT_EQ(f.frames, 128);
  ASSERT_EQ(f.bins, 128);
  int valid = 0;
  for (uint8_t m : f.mask) valid += m;
  EXPECT_EQ(valid, 128);
  double sum = 0, sq = 0, lo = 1e9, hi = -1e9;
  for (float v : f.values) sum += v, lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
  const double mean = sum / static_cast<double>(f.values.size());
  for (float v : f.values) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / static_cast<double>(f.values.size()));
  EXPECT_NEAR(mean, -6.13652, 2e-4);
  EXPECT_NEAR(sd, 3.74858, 2e-4);
  EXPECT_NEAR(lo, -11.51293, 2e-4);
  EXPECT_NEAR(hi, 4.18331, 2e-4);
  EXPECT_NEAR(f.values[0], -2.2887, 2e-4);
  EXPECT_NEAR(f.values[777], -2.72516, 2e-4);
  EXPECT_NEAR(f.values[4321], -8.1284, 2e-4);
}

class MelClipTest : public ::testing::TestWithParam<const char*> {};

TEST_P(MelClipTest, MatchesTransformers) {
  const std::string name = GetParam();
  const std::vector<float> x = RefFloats(name + ".samples");
  const MelFeatures f = LogMelExtractor().Extract(x);
  const auto& want_t = testing::Ref(name + ".features");
  ASSERT_EQ(f.frames, want_t.shape[0]);
  ASSERT_EQ(f.bins, 128);
  const std::vector<float> want = RefFloats(name + ".features");
  ExpectMelClose(name + " features", f.values, want.data(), static_cast<size_t>(f.frames));
  EXPECT_EQ(f.mask, RefBytes(name + ".mask"));
}

INSTANTIATE_TEST_SUITE_P(Clips, MelClipTest, ::testing::ValuesIn(kClips), [](const auto& info) {
  std::string n = info.param;
  for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return n;
});

TEST(MelFeatures, BatchPadsToLongestAndMasks) {
  const auto lengths = testing::RefInts<int32_t>("batch.lengths");
  const std::vector<float> a = RefFloats("tone_16k_s16.wav.samples");
  std::vector<float> b = RefFloats("speech_16k.wav.samples");
  b.resize(static_cast<size_t>(lengths[1]));
  ASSERT_EQ(a.size(), static_cast<size_t>(lengths[0]));
  const auto out = LogMelExtractor().ExtractBatch({a, b});
  const auto& want_t = testing::Ref("batch.features");
  ASSERT_EQ(want_t.shape.size(), 3u);
  const std::vector<float> want = RefFloats("batch.features");
  const std::vector<uint8_t> mask = RefBytes("batch.mask");
  const auto frames = want_t.shape[1];
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(out[i].frames, frames);
    const size_t n = static_cast<size_t>(frames) * 128;
    ExpectMelClose("batch item " + std::to_string(i), out[i].values, want.data() + i * n, static_cast<size_t>(frames));
    EXPECT_EQ(out[i].mask, std::vector<uint8_t>(mask.begin() + static_cast<std::ptrdiff_t>(i * frames),
                                                mask.begin() + static_cast<std::ptrdiff_t>((i + 1) * frames)));
  }
}

// The integer formula of tools/make_audio_fixtures.py (long_signal_16k).
std::vector<float> LongSignal(size_t n, std::vector<int64_t>* ints) {
  std::vector<float> x(n);
  ints->resize(n);
  const double pi = std::numbers::pi;
  for (size_t i = 0; i < n; ++i) {
    const double k = static_cast<double>(i);
    const double v = 8000.0 * std::sin(2 * pi * 440.0 * k / 16000) +
                     4000.0 * std::sin(2 * pi * (150.0 + 0.25 * k / 16000) * k / 16000);
    (*ints)[i] = static_cast<int64_t>(std::nearbyint(v));
    x[i] = static_cast<float>(static_cast<double>((*ints)[i]) / 32768.0);
  }
  return x;
}

TEST(MelFeatures, ThirtySecondCutAndThirtyOneSecondSplit) {
  std::vector<int64_t> ints;
  const std::vector<float> x = LongSignal(496000, &ints);
  const auto sums = testing::RefInts<int64_t>("long.checksum");
  int64_t s0 = 0, s1 = 0, s2 = 0;
  for (size_t i = 0; i < ints.size(); ++i) {
    if (i < 480000) s0 += ints[i];
    s1 += std::llabs(ints[i]);
    s2 += ints[i] * static_cast<int64_t>(i % 7);
  }
  ASSERT_EQ(sums, (std::vector<int64_t>{s0, s1, s2})) << "test signal differs from the generator's";

  ThreadPool pool(2);
  LogMelExtractor fe;
  const MelFeatures all = fe.Extract(x, &pool);  // 31 s: the extractor keeps the first 30 s
  const MelFeatures first = fe.Extract(std::span<const float>(x).first(480000), &pool);
  ASSERT_EQ(all.frames, 2997);
  EXPECT_EQ(all.values, first.values);
  EXPECT_EQ(all.mask, std::vector<uint8_t>(2997, 1));

  const auto ranges = testing::RefInts<int32_t>("long.frame_ranges");
  std::vector<float> got;
  for (size_t i = 0; i + 1 < ranges.size(); i += 2) {
    got.insert(got.end(), all.values.begin() + ranges[i] * 128, all.values.begin() + ranges[i + 1] * 128);
  }
  const std::vector<float> want = RefFloats("long.features");
  ExpectMelClose("30 s clip features (3 frame ranges)", got, want.data(), want.size() / 128);
  double mean = 0, var = 0;
  for (float v : all.values) mean += v;
  mean /= static_cast<double>(all.values.size());
  for (float v : all.values) var += (v - mean) * (v - mean);
  const std::vector<float> stats = RefFloats("long.stats");
  EXPECT_NEAR(mean, stats[0], 1e-5);
  EXPECT_NEAR(std::sqrt(var / static_cast<double>(all.values.size())), stats[1], 1e-5);

  const auto clips = SplitIntoClips(x);
  ASSERT_EQ(clips.size(), 2u);
  const MelFeatures tail = fe.Extract(clips[1]);
  const std::vector<float> want1 = RefFloats("long.clip1_features");
  ExpectMelClose("31 s clip, second (1 s) clip features", tail.values, want1.data(), want1.size() / 128);
  EXPECT_EQ(tail.mask, RefBytes("long.clip1_mask"));
}

TEST(MelFeatures, ThreadedEqualsSerial) {
  const std::vector<float> x = RefFloats("speech_16k.wav.samples");
  ThreadPool pool(3);
  LogMelExtractor fe;
  EXPECT_EQ(fe.Extract(x).values, fe.Extract(x, &pool).values);
}

TEST(MelFeatures, ShorterThanOneFrame) {
  LogMelExtractor fe;
  EXPECT_EQ(fe.Extract(std::vector<float>(400, 0.1f)).frames, 0);  // pads to 512 < 513
  EXPECT_EQ(fe.Extract(std::vector<float>(513, 0.1f)).frames, 1);  // pads to 640
  EXPECT_EQ(fe.Extract(std::span<const float>()).frames, 0);
}

TEST(MelFft, MatchesNaiveDft) {
  for (int n : {4, 16, 1024}) {
    RealFft fft(n);
    std::vector<double> x(static_cast<size_t>(n)), scratch;
    for (int i = 0; i < n; ++i) x[static_cast<size_t>(i)] = std::sin(0.37 * i * i) + 0.1 * i;
    scratch = x;
    std::vector<std::complex<double>> out(static_cast<size_t>(n / 2 + 1));
    fft.Forward(scratch.data(), out.data());
    double err = 0;
    for (int k = 0; k <= n / 2; ++k) {
      std::complex<double> s = 0;
      for (int j = 0; j < n; ++j) s += x[static_cast<size_t>(j)] * std::polar(1.0, -2 * std::numbers::pi * j * k / n);
      err = std::max(err, std::abs(s - out[static_cast<size_t>(k)]));
    }
    EXPECT_LT(err, 1e-9 * n) << "n=" << n;
  }
}

TEST(MelConfigParse, DefaultsAndErrors) {
  const std::string hf = R"({"feature_extractor_type": "Gemma3nAudioFeatureExtractor", "feature_size": 128,
    "sampling_rate": 16000, "frame_length_ms": 32.0, "hop_length_ms": 10.0, "fft_overdrive": true,
    "min_frequency": 125.0, "max_frequency": 7600.0, "preemphasis": 0.97, "preemphasis_htk_flavor": true,
    "dither": 0.0, "input_scale_factor": 1.0, "mel_floor": 1e-05, "per_bin_mean": null, "per_bin_stddev": null,
    "padding_value": 0.0, "padding_side": "right", "return_attention_mask": true,
    "image_processor_type": "SiglipImageProcessorFast"})";
  auto c = ParseMelConfig(hf, "preprocessor_config.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->frame_length, 512);
  EXPECT_EQ(c->hop_length, 160);
  EXPECT_EQ(c->fft_length(), 1024);
  EXPECT_TRUE(c->per_bin_mean.empty());
  EXPECT_FALSE(ParseMelConfig(R"({"dither": 1e-4})", "x").ok());
  EXPECT_FALSE(ParseMelConfig(R"({"per_bin_mean": [1, 2]})", "x").ok());
  EXPECT_FALSE(ParseMelConfig(R"({"max_frequency": 9000})", "x").ok());
  EXPECT_FALSE(ParseMelConfig(R"({"feature_size": "many"})", "x").ok());
  EXPECT_FALSE(ParseMelConfig("not json", "x").ok());
}

}  // namespace
}  // namespace g3n
