#include "vision/image_tokens.h"

#include <cmath>

#include "vision/embed_vision.h"

namespace g3n {

Result<ImageEmbedder> ImageEmbedder::Create(const Model& model) {
  ImageEmbedder e;
  G3N_ASSIGN_OR_RETURN(e.w_, BindVisionWeights(model));
  G3N_ASSIGN_OR_RETURN(e.pre_, LoadPreprocessConfig(model.checkpoint.dir));
  return e;
}

Result<ImageEmbedder> ImageEmbedder::Create(const Checkpoint& ck, int text_hidden, DType type, ThreadPool* pool) {
  ImageEmbedder e;
  G3N_ASSIGN_OR_RETURN(e.w_, BindVisionWeights(ck, text_hidden));
  G3N_ASSIGN_OR_RETURN(e.pre_, LoadPreprocessConfig(ck.dir));
  RequantizeVisionWeights(&e.w_, type, pool);
  return e;
}

Result<std::vector<float>> ImageEmbedder::FromPixels(const float* chw, ThreadPool* pool, VisionTrace* trace) const {
  G3N_ASSIGN_OR_RETURN(std::vector<float> tokens, EncodeImage(w_, chw, pre_.height, pre_.width, pool, trace));
  // HF get_image_features scales the MSFA tokens by sqrt(hidden_size) before the embedder.
  const float scale = std::sqrt(static_cast<float>(w_.config.hidden_size));
  for (float& v : tokens) v *= scale;
  return EmbedVisionSoft(w_, tokens.data(), w_.config.soft_tokens_per_image, pool);
}

Result<std::vector<float>> ImageEmbedder::FromImage(const RgbImage& img, ThreadPool* pool, VisionTrace* trace) const {
  PreprocessConfig c = pre_;
  c.do_resize = true;  // the tower only runs at the configured size
  const std::vector<float> px = PreprocessImage(img, c);
  return FromPixels(px.data(), pool, trace);
}

Result<std::vector<float>> ImageEmbedder::FromBytes(const uint8_t* data, size_t size, ThreadPool* pool,
                                                    VisionTrace* trace) const {
  G3N_ASSIGN_OR_RETURN(RgbImage img, DecodeImage(data, size, decode_options));
  return FromImage(img, pool, trace);
}

Result<std::vector<float>> ImageEmbedder::FromFile(const std::string& path, ThreadPool* pool) const {
  G3N_ASSIGN_OR_RETURN(RgbImage img, DecodeImageFile(path, decode_options));
  return FromImage(img, pool);
}

Result<std::vector<float>> ImageEmbedder::HardToken(int32_t id) const { return EmbedVisionHard(w_, id); }

Result<ImageOverrides> BuildImageOverrides(const ImageEmbedder& e, const int32_t* ids, int n,
                                           const std::vector<std::vector<float>>& images) {
  const int H = e.text_hidden(), per = e.tokens_per_image();
  const int image_id = e.config().image_token_id;
  int soft = 0;
  for (int t = 0; t < n; ++t) soft += ids[t] == image_id;
  if (soft != per * static_cast<int>(images.size()))
    return Error("vision: prompt has " + std::to_string(soft) + " image placeholder tokens but " +
                 std::to_string(images.size()) + " image(s) need " + std::to_string(per * images.size()));
  for (const auto& img : images)
    if (img.size() != static_cast<size_t>(per) * H) return Error("vision: image embedding has the wrong size");
  ImageOverrides o;
  int k = 0;
  for (int t = 0; t < n; ++t) {
    if (!e.IsVisionId(ids[t])) continue;
    o.rows.push_back(t);
    if (ids[t] == image_id) {
      const float* row = images[k / per].data() + static_cast<size_t>(k % per) * H;
      o.data.insert(o.data.end(), row, row + H);
      ++k;
    } else {
      G3N_ASSIGN_OR_RETURN(std::vector<float> row, e.HardToken(ids[t]));
      o.data.insert(o.data.end(), row.begin(), row.end());
    }
  }
  return o;
}

}  // namespace g3n
