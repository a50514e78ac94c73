// Row quantization to ggml's formats and back. QuantizeRow is the scalar reference algorithm of
// ggml (quantize_row_*_ref), reproduced operation by operation so that a file we write holds the
// same bytes llama.cpp's quantizer would write; tests check it against ggml's own output.
#pragma once
#include <cstdint>

#include "io/dtype.h"

namespace g3n {

// True for the types QuantizeRow / DequantizeRow handle: F32, F16, BF16 and the block formats
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K.
bool IsQuantizable(DType t);

// Encodes n floats (n a multiple of BlockElems(t)) into RowBytes(t, n) bytes at dst.
// Returns false (writing nothing) for an unsupported type or a misfit n.
bool QuantizeRow(DType t, const float* src, int64_t n, uint8_t* dst);

// Decodes RowBytes(t, n) bytes into n floats, exactly as ggml's dequantize_row_* does.
bool DequantizeRow(DType t, const uint8_t* src, int64_t n, float* dst);

}  // namespace g3n
