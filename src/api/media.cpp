#include "api/media.h"

#include <filesystem>

#include "audio/audio_clips.h"
#include "audio/audio_decode.h"
#include "audio/audio_tokens.h"
#include "audio/audio_weights.h"
#include "audio/mel_config.h"
#include "io/mapped_file.h"
#include "util/memory_budget.h"
#include "vision/image_tokens.h"

namespace g3n::api {

Media::Media(const Model& model, ThreadPool* pool, const MediaOptions& options)
    : model_(model),
      pool_(pool),
      text_only_(options.text_only),
      encoder_type_(options.encoder_type),
      ledger_(options.ledger),
      hidden_(model.config.text.hidden_size) {}

ApiStatus Media::Create(const Model& model, ThreadPool* pool, const MediaOptions& options, std::unique_ptr<Media>* out) {
  std::unique_ptr<Media> m(new Media(model, pool, options));
  if (!options.towers.empty()) {
    auto ck = OpenCheckpoint(options.towers);
    if (!ck.ok()) return ApiError(G3N_ERR_IO, "towers: " + ck.status().message());
    m->own_towers_ = std::make_unique<Checkpoint>(std::move(*ck));
    m->towers_ = m->own_towers_.get();
    // Its text side must be this model's: the towers project into its hidden size and ids.
    auto text = ParseModelConfig(m->towers_->config_json, "", m->towers_->dir + "/config.json");
    if (!text.ok()) return ApiError(G3N_ERR_IO, "towers: " + text.status().message());
    if (text->text.hidden_size != model.config.text.hidden_size || text->text.vocab_size != model.config.text.vocab_size)
      return ApiError(G3N_ERR_INVALID_ARGUMENT,
                      "towers: " + options.towers + " belongs to another model (text hidden size " +
                          std::to_string(text->text.hidden_size) + ", vocabulary " + std::to_string(text->text.vocab_size) +
                          "; this model has " + std::to_string(model.config.text.hidden_size) + ", " +
                          std::to_string(model.config.text.vocab_size) + ")");
  } else if (!model.from_gguf) {  // llama.cpp keeps the towers in separate files
    m->towers_ = &model.checkpoint;
  }
  if (m->towers_ != nullptr) {
    const Checkpoint& ck = *m->towers_;
    const bool has_vision_tensors = ck.Find("model.embed_vision.embedding.weight") != nullptr;
    const bool has_audio_tensors = ck.Find("model.embed_audio.embedding.weight") != nullptr;
    if (auto v = ParseVisionConfig(ck.config_json, ck.dir); v.ok() && has_vision_tensors)
      m->vision_ = std::make_unique<VisionConfig>(std::move(*v));
    if (auto a = ParseAudioConfig(ck.config_json, ck.dir); a.ok() && has_audio_tensors)
      m->audio_ = std::make_unique<AudioConfig>(std::move(*a));
    if (!options.towers.empty() && !m->vision_ && !m->audio_)
      return ApiError(G3N_ERR_INVALID_ARGUMENT, "towers: " + options.towers + " holds neither a vision nor an audio tower");
  }
  *out = std::move(m);
  return ApiOk();
}

Media::~Media() = default;

bool Media::IsMediaId(int32_t id) const {
  return (vision_ && id >= vision_->vocab_offset && id < vision_->vocab_offset + vision_->vocab_size) ||
         (audio_ && id >= audio_->vocab_offset && id < audio_->vocab_offset + audio_->vocab_size);
}

std::string Media::NoTowerMessage(const char* tower, const char* what) const {
  if (towers_ == nullptr)
    return std::string("a GGUF file holds no ") + tower + " tower: pass the Hugging Face checkpoint folder as the "
           "towers (--mmproj DIR) to use " + what;
  return "this checkpoint has no " + std::string(tower) + " tower: " + what + " are not supported";
}

ApiStatus Media::CheckTowerMemory(const char* tower, const std::vector<std::string>& prefixes,
                                  uint64_t activations) const {
  uint64_t kept = 0;
  for (const std::string& p : prefixes) {
    for (auto it = towers_->tensors.lower_bound(p); it != towers_->tensors.end() && it->first.rfind(p, 0) == 0; ++it) {
      const TensorView& t = it->second;
      // Re-encoded: matrices shrink to the target's bytes per element (approximately: rows
      // that do not fit its blocks stay as stored).
      kept += encoder_type_ == DType::Unknown || t.shape.size() < 2
                  ? t.nbytes
                  : RowBytes(encoder_type_, 32) * static_cast<uint64_t>(t.numel()) / 32;
    }
  }
  MemoryNeed need;
  need.resident = kept + activations;
  need.reserved = kept + activations;
  need.breakdown = std::string(tower) + " weights " + MiB(kept) +
                   (encoder_type_ == DType::Unknown ? "" : " in " + std::string(DTypeName(encoder_type_))) +
                   " + activations " + MiB(activations);
  if (ledger_ == nullptr) return ApiOk();
  const Status st = ledger_->Reserve(std::string("the ") + tower + " tower", need);
  return st.ok() ? ApiOk() : ApiError(G3N_ERR_OUT_OF_MEMORY, st.message());
}

size_t Media::encoder_resident_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  if (image_) n += ResidentBytes(image_->weights());
  if (audio_weights_) n += ResidentBytes(*audio_weights_);
  return n;
}

ApiStatus Media::LoadVision() {
  if (image_) return ApiOk();
  if (text_only_) return ApiError(G3N_ERR_UNSUPPORTED, "the model was loaded text-only: images are refused");
  if (!vision_) return ApiError(G3N_ERR_UNSUPPORTED, NoTowerMessage("vision", "images"));
  ApiStatus fits = CheckTowerMemory("vision", {"model.vision_tower.", "model.embed_vision."}, 160u << 20);
  if (!fits.ok()) return fits;
  auto e = ImageEmbedder::Create(*towers_, hidden_, encoder_type_, pool_);
  if (!e.ok()) return ApiError(G3N_ERR_IO, e.status().message());
  image_ = std::make_unique<ImageEmbedder>(std::move(*e));
  return ApiOk();
}

ApiStatus Media::LoadAudio() {
  if (audio_tokens_) return ApiOk();
  if (text_only_) return ApiError(G3N_ERR_UNSUPPORTED, "the model was loaded text-only: audio is refused");
  if (!audio_) return ApiError(G3N_ERR_UNSUPPORTED, NoTowerMessage("audio", "audio"));
  ApiStatus fits = CheckTowerMemory("audio", {"model.audio_tower.", "model.embed_audio."}, 64u << 20);
  if (!fits.ok()) return fits;
  auto w = BindAudioWeights(*towers_, hidden_, model_.config.text.vocab_size);
  if (!w.ok()) return ApiError(G3N_ERR_IO, w.status().message());
  audio_weights_ = std::make_unique<AudioWeights>(std::move(*w));
  RequantizeAudioWeights(audio_weights_.get(), encoder_type_, pool_);
  MelConfig mc;
  const std::string pre = towers_->dir + "/preprocessor_config.json";
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
