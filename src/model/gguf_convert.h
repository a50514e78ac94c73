// HF Gemma 3n checkpoint -> GGUF in llama.cpp's gemma3n layout, as convert_hf_to_gguf.py
// followed by llama-quantize would write it: the same tensor names, ggml shapes, metadata keys
// and converter transforms (spec 2.2), and llama.cpp's per-tensor type rules for each mix.
//
// Type rules (what llama.cpp does, and where we differ):
//  * always F32: 1-D tensors, *_norm.weight, altup_correct_coef, altup_predict_coef (converter).
//  * F32 / F16 / BF16 mixes: every other tensor in that type (converter --outtype).
//  * quantized mixes (llama-quantize on top of the converter's output):
//    - not quantized at all: altup_proj, altup_unembd_proj, altup_router, laurel_l/laurel_r,
//      per_layer_model_proj. llama.cpp leaves them in the converter's float type; we keep the
//      checkpoint's own dtype (BF16 for Gemma 3n), which is lossless.
//    - token_embd and per_layer_token_embd (the head is tied): Q6_K, or Q8_0 when ne0 is not a
//      multiple of the mix's block size or the mix is Q8_0. --embed-type / --ple-type override
//      each (llama-quantize's --token-embedding-type sets both).
//    - Q4_K_M / Q5_K_M: attn_v and ffn_down of layers where use_more_bits(i, L) holds
//      (i < L/8, i >= 7L/8, or (i - L/8) % 3 == 2) get Q6_K; everything else Q4_K / Q5_K.
//    - Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q6_K: that type for every other 2-D weight.
//    - a row length (ne0) that does not fit the block size falls back like llama.cpp:
//      Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, and F16 if even that does not fit.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "model/model.h"
#include "util/status.h"

namespace g3n {

enum class GgufMix { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_M, Q5_K_M, Q6_K };

Result<GgufMix> ParseGgufMix(const std::string& s);
const char* GgufMixName(GgufMix m);
uint32_t GgufFileType(GgufMix m);  // general.file_type (llama_ftype)
// F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K (for --embed-type / --ple-type).
Result<DType> ParseGgufTensorType(const std::string& s);

struct GgufConvertOptions {
  GgufMix mix = GgufMix::F16;
  std::optional<DType> embed_type;  // token_embd (also the LM head)
  std::optional<DType> ple_type;    // per_layer_token_embd
  // Called after each tensor: tensors done, total, bytes written, total bytes, tensor name.
  std::function<void(size_t, size_t, uint64_t, uint64_t, const std::string&)> progress;
};

// One output tensor: GGUF name, ggml shape, type, and the HF tensor(s) it comes from.
struct GgufTensorPlan {
  std::string name;
  std::vector<int64_t> ne;
  DType type = DType::F32;
  std::vector<const TensorView*> sources;  // 3 for the stacked AltUp projections; empty: zeros
  int64_t pad_rows = 0;                    // zero rows appended (vocab padding)
};

// The tensor list and types for `model` (an HF checkpoint loaded by LoadModel).
Result<std::vector<GgufTensorPlan>> PlanGgufTensors(const Model& model, const GgufConvertOptions& opt);

// The per-tensor type rule above, for one tensor (exposed for tests).
DType ChooseGgufType(const std::string& name, const std::vector<int64_t>& ne, DType source, int layer, int n_layers,
                     const GgufConvertOptions& opt);

// Writes the GGUF. `hf_dir` is the HF folder (tokenizer files, config.json, generation_config.json).
// The tokenizer comes from tokenizer.model, else from tokenizer.json (see gguf_vocab.h); without
// either the file gets none (a warning; llama.cpp cannot load it then).
Status ConvertToGguf(const Model& model, const std::string& hf_dir, const std::string& out_path,
                     const GgufConvertOptions& opt, std::string* warning = nullptr);

}  // namespace g3n
