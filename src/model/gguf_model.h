// A Gemma 3n GGUF in llama.cpp's layout (architecture `gemma3n`): its metadata read into the
// same ModelConfig an HF folder gives, and its tensors bound as the same TextWeights views
// (zero-copy: ggml [ne0 = in, ne1 = out] is HF's row-major [out, in]; the stacked AltUp
// projections [H, H, 3] are three consecutive [H, H] matrices).
#pragma once
#include <string>

#include "io/gguf.h"
#include "model/config.h"
#include "model/weights.h"

namespace g3n {

// The metadata keys and their meaning follow spec section 2.2 and llama.cpp's loader:
//  * vocab_size = rows of token_embd; vocab_size_per_layer_input = rows of per_layer_token_embd
//    less the all-zero rows the newer converter appends (262144 real rows of 262400).
//  * layer types from gemma3n.attention.sliding_window_pattern (true = sliding; absent: every
//    fifth layer is full, as llama.cpp assumes); KV roles from attention.shared_kv_layers.
//  * activation_sparsity_scale: a finite value > 0 is the multiplier Phi^-1(s) of a sparse
//    layer (stored back as s = Phi(scale)); -inf, NaN or <= 0 mean dense. Absent: llama.cpp's
//    fixed rule, the first 10 layers at 0.95.
//  * laurel rank from the shape of blk.0.laurel_l (GGUF has no key for it).
//  * rope.freq_base / rope.freq_base_swa default to 10000 like llama.cpp when absent.
//  * generation: bos/eos from tokenizer.ggml.*, plus eot/eom and an `<end_of_turn>` token, and
//    general.sampling.* when present.
Result<ModelConfig> GgufModelConfig(const GgufFile& f);

// Binds every text tensor, checking presence, ggml shape and type; vectors are widened to fp32
// and the AltUp coefficients clamped like the HF path does.
Result<TextWeights> BindGgufWeights(const GgufFile& f, const TextConfig& c);

// Rows at the end of per_layer_token_embd that hold only zeros (the converter's padding).
Result<int64_t> CountTrailingZeroRows(const GgufTensor& t);

}  // namespace g3n
