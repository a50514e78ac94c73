// Image file bytes -> the rows the text decoder takes at the image's <image_soft_token>
// positions (through EmbeddingOverrides, model/text_decoder.h): decode, preprocess, encode,
// times sqrt(hidden_size), embed_vision soft path. Also the hard-path rows for vision ids.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/model.h"
#include "model/text_decoder.h"
#include "util/status.h"
#include "vision/image_decode.h"
#include "vision/image_preprocess.h"
#include "vision/mobilenet_v5.h"
#include "vision/vision_weights.h"

namespace g3n {

class ImageEmbedder {
 public:
  // Binds the vision weights (the first time an image arrives) and reads preprocessor_config.json.
  static Result<ImageEmbedder> Create(const Model& model);
  // From any checkpoint holding the tower; its matrices re-encoded to `type` (Unknown = as stored).
  static Result<ImageEmbedder> Create(const Checkpoint& ck, int text_hidden, DType type, ThreadPool* pool);

  const VisionConfig& config() const { return w_.config; }
  int tokens_per_image() const { return w_.config.soft_tokens_per_image; }
  int text_hidden() const { return w_.text_hidden; }

  // [tokens_per_image, text_hidden], row i for the i-th <image_soft_token> of this image.
  Result<std::vector<float>> FromBytes(const uint8_t* data, size_t size, ThreadPool* pool,
                                       VisionTrace* trace = nullptr) const;
  Result<std::vector<float>> FromFile(const std::string& path, ThreadPool* pool) const;
  Result<std::vector<float>> FromImage(const RgbImage& img, ThreadPool* pool, VisionTrace* trace = nullptr) const;
  // From already preprocessed CHW pixels of the configured size.
  Result<std::vector<float>> FromPixels(const float* chw, ThreadPool* pool, VisionTrace* trace = nullptr) const;
  // The hard-path row of a vision id (e.g. <end_of_image>).
  Result<std::vector<float>> HardToken(int32_t id) const;
  bool IsVisionId(int32_t id) const {
    return id >= w_.config.vocab_offset && id < w_.config.vocab_offset + w_.config.vocab_size;
  }

  const VisionWeights& weights() const { return w_; }

  DecodeOptions decode_options;

 private:
  VisionWeights w_;
  PreprocessConfig pre_;
};

// The vision part of building a prompt's input embeddings (spec §4.3): every vision id gets its
// hard-path row, then the k-th <image_soft_token> gets row k of the images' soft rows, in order.
struct ImageOverrides {
  std::vector<int> rows;
  std::vector<float> data;  // [rows.size(), text_hidden]
  EmbeddingOverrides view() const { return EmbeddingOverrides{rows, data.data()}; }
};
Result<ImageOverrides> BuildImageOverrides(const ImageEmbedder& e, const int32_t* ids, int n,
                                           const std::vector<std::vector<float>>& images);

}  // namespace g3n
