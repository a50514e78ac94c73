#include "api/media.h"

#include <filesystem>

#include "audio/audio_clips.h"
#include "audio/audio_decode.h"
#include "audio/audio_tokens.h"
#include "audio/audio_weights.h"
#include "audio/mel_config.h"
#include "io/mapped_file.h"
#include "vision/image_tokens.h"

namespace g3n::api {

Media::Media(const Model& model, ThreadPool* pool, bool text_only)
    : model_(model), pool_(pool), text_only_(text_only), hidden_(model.config.text.hidden_size) {
  if (model.from_gguf) return;  // llama.cpp keeps the towers in separate mmproj files
  const std::string& cfg = model.checkpoint.config_json;
  const bool has_vision_tensors = model.checkpoint.Find("model.embed_vision.embedding.weight") != nullptr;
  const bool has_audio_tensors = model.checkpoint.Find("model.embed_audio.embedding.weight") != nullptr;
  if (auto v = ParseVisionConfig(cfg, model.checkpoint.dir); v.ok() && has_vision_tensors)
    vision_ = std::make_unique<VisionConfig>(std::move(*v));
  if (auto a = ParseAudioConfig(cfg, model.checkpoint.dir); a.ok() && has_audio_tensors)
    audio_ = std::make_unique<AudioConfig>(std::move(*a));
}

Media::~Media() = default;

bool Media::IsMediaId(int32_t id) const {
  return (vision_ && id >= vision_->vocab_offset && id < vision_->vocab_offset + vision_->vocab_size) ||
         (audio_ && id >= audio_->vocab_offset && id < audio_->vocab_offset + audio_->vocab_size);
}

ApiStatus Media::LoadVision() {
  if (image_) return ApiOk();
  if (text_only_) return ApiError(G3N_ERR_UNSUPPORTED, "the model was loaded text-only: images are refused");
  if (!vision_) return ApiError(G3N_ERR_UNSUPPORTED, "this checkpoint has no vision tower: images are not supported");
  auto e = ImageEmbedder::Create(model_);
  if (!e.ok()) return ApiError(G3N_ERR_IO, e.status().message());
  image_ = std::make_unique<ImageEmbedder>(std::move(*e));
  return ApiOk();
}

ApiStatus Media::LoadAudio() {
  if (audio_tokens_) return ApiOk();
  if (text_only_) return ApiError(G3N_ERR_UNSUPPORTED, "the model was loaded text-only: audio is refused");
  if (!audio_) return ApiError(G3N_ERR_UNSUPPORTED, "this checkpoint has no audio tower: audio is not supported");
  auto w = BindAudioWeights(model_);
  if (!w.ok()) return ApiError(G3N_ERR_IO, w.status().message());
  audio_weights_ = std::make_unique<AudioWeights>(std::move(*w));
  MelConfig mc;
  const std::string pre = model_.checkpoint.dir + "/preprocessor_config.json";
  if (std::filesystem::exists(pre)) {
    auto text = ReadTextFile(pre);
    if (!text.ok()) return ApiError(G3N_ERR_IO, text.status().message());
    auto parsed = ParseMelConfig(*text, pre);
    if (!parsed.ok()) return ApiError(G3N_ERR_IO, parsed.status().message());
    mc = *parsed;
  }
  mel_ = std::make_unique<LogMelExtractor>(mc);
  audio_tokens_ = std::make_unique<AudioTokens>(*audio_weights_, pool_);
  return ApiOk();
}

ApiStatus Media::EncodeImage(const void* data, size_t size, std::vector<float>* rows) {
  std::lock_guard<std::mutex> lock(mu_);
  ApiStatus st = LoadVision();
  if (!st.ok()) return st;
  auto r = image_->FromBytes(static_cast<const uint8_t*>(data), size, pool_);
  if (!r.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, "image: " + r.status().message());
  *rows = std::move(*r);
  return ApiOk();
}

ApiStatus Media::EncodeAudio(const void* data, size_t size, std::vector<std::vector<float>>* clips) {
  std::lock_guard<std::mutex> lock(mu_);
  ApiStatus st = LoadAudio();
  if (!st.ok()) return st;
  auto decoded = DecodeAudioMemory(data, size);
  if (!decoded.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, "audio: " + decoded.status().message());
  if (decoded->samples.empty()) return ApiError(G3N_ERR_INVALID_ARGUMENT, "audio: the clip holds no samples");
  clips->clear();
  for (const std::vector<float>& clip : SplitIntoClips(decoded->samples)) {
    const MelFeatures f = mel_->Extract(clip, pool_);
    auto rows = audio_tokens_->ClipRows(f);
    if (!rows.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, "audio: " + rows.status().message());
    clips->push_back(std::move(*rows));
  }
  return ApiOk();
}

ApiStatus Media::HardRow(int32_t id, const float** row) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hard_rows_.find(id);
  if (it == hard_rows_.end()) {
    Result<std::vector<float>> r = Error("");
    const bool vision = vision_ && id >= vision_->vocab_offset && id < vision_->vocab_offset + vision_->vocab_size;
    ApiStatus st = vision ? LoadVision() : LoadAudio();
    if (!st.ok()) return st;
    r = vision ? image_->HardToken(id) : audio_tokens_->HardEmbedding(id);
    if (!r.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, r.status().message());
    it = hard_rows_.emplace(id, std::move(*r)).first;
  }
  *row = it->second.data();
  return ApiOk();
}

}  // namespace g3n::api
