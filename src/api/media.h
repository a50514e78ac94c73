// The image and audio side of a model (conditional parameter loading): which ids are
// multimodal is read from config.json at load, but the towers and embedders are bound only when
// the first image or audio clip arrives, then kept. `text_only` refuses media instead.
// The towers come from the model's own checkpoint folder or, beside a GGUF text model (whose
// files hold no towers), from a separate HF checkpoint folder (`towers`). They run as stored or
// re-encoded at load into 8/4 bits (`encoder_type`).
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/api_status.h"
#include "audio/audio_config.h"
#include "audio/mel_features.h"
#include "kernels/thread_pool.h"
#include "model/model.h"
#include "tokenizer/chat_template.h"
#include "util/memory_budget.h"
#include "vision/vision_config.h"

namespace g3n {
class ImageEmbedder;
class AudioTokens;
struct AudioWeights;
}  // namespace g3n

namespace g3n::api {

struct MediaOptions {
  bool text_only = false;
  std::string towers;                  // HF folder with the towers; "" = the model's own files
  DType encoder_type = DType::Unknown;  // Unknown = as stored
  MemoryLedger* ledger = nullptr;       // the engine's; null = no memory check
};

class Media {
 public:
  // Reads which towers exist and their configs; opens `towers` (headers only, nothing read).
  static ApiStatus Create(const Model& model, ThreadPool* pool, const MediaOptions& options,
                          std::unique_ptr<Media>* out);
  ~Media();

  bool has_vision() const { return vision_ != nullptr; }
  bool has_audio() const { return audio_ != nullptr; }
  bool text_only() const { return text_only_; }
  // Ids that take an embedder's row instead of the token table's (vision and audio ranges).
  bool IsMediaId(int32_t id) const;
  bool IsImageSoftToken(int32_t id) const { return vision_ && id == vision_->image_token_id; }
  bool IsAudioSoftToken(int32_t id) const { return audio_ && id == audio_->audio_token_id; }
  int hidden() const { return hidden_; }
  // Soft tokens per image / audio clip (what the chat template expands a placeholder to).
  MediaTokenCounts token_counts() const {
    MediaTokenCounts n;
    if (vision_) n.image = vision_->soft_tokens_per_image;
    if (audio_) n.audio = audio_->soft_tokens_per_clip;
    return n;
  }
  int32_t first_media_id() const {
    int32_t id = model_.config.text.vocab_size;
    if (vision_) id = std::min(id, static_cast<int32_t>(vision_->vocab_offset));
    if (audio_) id = std::min(id, static_cast<int32_t>(audio_->vocab_offset));
    return id;
  }

  // Encoded image file bytes -> [soft tokens, hidden] rows (loads the vision tower once).
  ApiStatus EncodeImage(const void* data, size_t size, std::vector<float>* rows);
  // Audio file bytes -> one [188, hidden] block per 30 s clip (loads the audio tower once).
  ApiStatus EncodeAudio(const void* data, size_t size, std::vector<std::vector<float>>* clips);
  // The hard-path row of a media id that is not a soft token (<end_of_image>, ...).
  ApiStatus HardRow(int32_t id, const float** row);
  // Bytes of tower weights an encode reads (0 while no tower is loaded), mapped or re-encoded.
  size_t encoder_resident_bytes() const;

 private:
  Media(const Model& model, ThreadPool* pool, const MediaOptions& options);
  std::string NoTowerMessage(const char* tower, const char* what) const;
  // Refuses a tower the memory limits cannot hold, before any of it is read.
  ApiStatus CheckTowerMemory(const char* tower, const std::vector<std::string>& prefixes, uint64_t activations) const;
  ApiStatus LoadVision();  // callers hold mu_
  ApiStatus LoadAudio();

  const Model& model_;
  ThreadPool* pool_;
  bool text_only_;
  DType encoder_type_;
  MemoryLedger* ledger_;
  int hidden_;
  std::unique_ptr<Checkpoint> own_towers_;  // the `towers` folder, when given
  const Checkpoint* towers_ = nullptr;      // where the tower tensors are
  mutable std::mutex mu_;
  std::unique_ptr<VisionConfig> vision_;  // null: the checkpoint has no vision tower
  std::unique_ptr<AudioConfig> audio_;
  std::unique_ptr<ImageEmbedder> image_;
  std::unique_ptr<AudioWeights> audio_weights_;
  std::unique_ptr<AudioTokens> audio_tokens_;
  std::unique_ptr<LogMelExtractor> mel_;
  std::unordered_map<int32_t, std::vector<float>> hard_rows_;
};

}  // namespace g3n::api
