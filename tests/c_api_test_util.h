// Greedy next ids through the C API, to compare with a reference's argmax at every position.
#pragma once
#include <gtest/gtest.h>

#include <vector>

#include "gemma3n.h"
#include "test_util.h"

namespace g3n::testing {

inline int KeepLastToken(void* u, int32_t id, const char*, size_t) {
  if (id >= 0) *static_cast<int32_t*>(u) = id;
  return 0;
}

// The greedy id after ids[0..t] for every t, from one session holding the whole prompt (cut
// back from the end, so the media rows stay in place).
inline std::vector<int> NextIds(g3n_session* s, size_t T) {
  g3n_generate_options go;
  g3n_generate_options_init(nullptr, &go);
  go.greedy = 1;
  go.max_new_tokens = 1;
  go.ignore_eos = 1;
  std::vector<int> out(T, -1);
  for (size_t t = T; t-- > 0;) {
    EXPECT_EQ(g3n_session_truncate(s, t + 1), G3N_OK) << g3n_last_error();
    int32_t got = -1;
    EXPECT_EQ(g3n_session_generate(s, &go, KeepLastToken, &got, nullptr), G3N_OK) << g3n_last_error();
    out[t] = got;
  }
  return out;
}

// Row argmaxes of [T, V] logits.
inline std::vector<int> Argmaxes(const std::vector<float>& logits, size_t T) {
  const int V = static_cast<int>(logits.size() / T);
  std::vector<int> a;
  for (size_t t = 0; t < T; ++t) a.push_back(Argmax(logits.data() + t * V, V));
  return a;
}

}  // namespace g3n::testing
