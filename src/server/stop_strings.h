// OpenAI `stop` strings on streamed text: text is released as soon as it can no longer be the
// start of a stop string; at a match the text before it is released and the rest dropped.
// Held-back text always ends at a UTF-8 character boundary, since it is a prefix of a stop
// string and the input arrives in whole characters.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace g3n::server {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // The text that is final after adding `text` (nothing more once stopped()).
  std::string Push(std::string_view text);
  bool stopped() const { return stopped_; }
  // At the end of generation: the held-back text (empty once stopped()).
  std::string Flush();

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace g3n::server
