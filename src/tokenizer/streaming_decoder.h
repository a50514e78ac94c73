// StreamingDecoder: token ids in one at a time (as a model samples them), text out as soon as it
// is final, always valid UTF-8. The concatenation of everything returned, Flush() included,
// equals Tokenizer::Decode of the same ids.
//
// Only byte pieces (<0xNN>) can leave text unfinished. They are held until the run of byte
// pieces ends (a non-byte token or Flush), because Decode - like HF's ByteFallback decoder -
// judges a run as a whole: a run that is not valid UTF-8 becomes one U+FFFD per byte, even if
// it starts with a complete character. So a character spelled in bytes appears when the next
// ordinary token arrives, never as half a character.
#pragma once
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace g3n {

class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special = false)
      : tok_(&tokenizer), skip_special_(skip_special) {}

  // The text that became final with `id` (often empty while byte pieces accumulate).
  std::string Push(int32_t id) {
    std::string out;
    tok_->DecodeStep(id, skip_special_, pending_, out);
    return out;
  }
  // Ends the stream: whatever was held back, resolved.
  std::string Flush() {
    std::string out;
    Tokenizer::FlushBytes(pending_, out);
    return out;
  }
  bool has_pending() const { return !pending_.empty(); }

 private:
  const Tokenizer* tok_;
  bool skip_special_;
  std::string pending_;  // bytes of the current run of byte pieces
};

}  // namespace g3n
