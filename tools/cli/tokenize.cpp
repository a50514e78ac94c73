// gemma3n tokenize / detokenize: text <-> token ids with a checkpoint's tokenizer.json.
//
//   tokenize   --model DIR [--tokenizer DIR] [--prompt TEXT] [--no-bos] [--chat] [--jsonl] [--pieces]
//     Encodes --prompt, or all of stdin byte for byte, and prints the ids as a JSON array.
//     --chat     the text is one user message, rendered with the chat template (which adds <bos>)
//     --jsonl    every stdin line is a JSON string; every output line is its id array
//     --pieces   one "id<TAB>piece" line per token instead (pieces JSON-quoted)
//   detokenize --model DIR [--tokenizer DIR] [--ids 2,105,... | --tokens 2,105,...] [--jsonl] [--skip-special]
//     Decodes --ids, or a JSON array on stdin, and writes the text as is (no newline added);
//     with --jsonl every stdin line is an id array and every output line a JSON string.
// Invalid UTF-8 input is encoded as its U+FFFD repair (see src/tokenizer/tokenizer.h).
// Also here, for `run --prompt` and `chat`: TokenizerFromArgs and PromptFromArgs.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/common.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/gemma3n_tokens.h"

namespace g3n::cli {
namespace {

using json = nlohmann::json;

std::string ReadStdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

std::string IdsJson(const std::vector<int32_t>& ids) { return json(ids).dump(); }

Result<std::vector<int32_t>> EncodeOne(const Tokenizer& tok, const std::string& text, const Args& args) {
  if (args.Has("chat")) return EncodeChat(tok, {ChatMessage::Text("user", text)}, /*add_generation_prompt=*/true);
  return tok.Encode(text, tok.add_bos() && !args.Has("no-bos"));
}

void PrintPieces(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  for (int32_t id : ids)
    std::printf("%d\t%s\n", id, json(std::string(tok.Piece(id))).dump(-1, ' ', false, json::error_handler_t::replace).c_str());
}

Result<std::vector<int32_t>> CheckedIds(const json& j, const Tokenizer& tok, const std::string& where) {
  if (!j.is_array()) return Error(where + ": expected a JSON array of token ids");
  std::vector<int32_t> ids;
  for (const json& e : j) {
    if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() >= tok.vocab_size())
      return Error(where + ": " + e.dump() + " is not a token id of this tokenizer [0, " +
                   std::to_string(tok.vocab_size()) + ")");
    ids.push_back(e.get<int32_t>());
  }
  return ids;
}

}  // namespace

Result<Tokenizer> TokenizerFromArgs(const Args& args) {
  const std::string dir = args.Has("tokenizer") ? args.Get("tokenizer") : args.Get("model");
  if (dir.empty()) return Error("--model DIR (or --tokenizer DIR) is required: a folder with tokenizer.json");
  return gemma3n::LoadTokenizer(dir);
}

Result<std::vector<int32_t>> PromptFromArgs(const Args& args, const Tokenizer& tok) {
  return EncodeOne(tok, args.Get("prompt"), args);
}

int TokenizeCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "tokenizer", "prompt", "no-bos", "chat", "jsonl", "pieces", "ids-only"});
  if (!st.ok()) return Fail(st);
  auto tok = TokenizerFromArgs(args);
  if (!tok.ok()) return Fail(tok.status());

  if (args.Has("jsonl")) {
    std::string line;
    for (int n = 1; std::getline(std::cin, line); ++n) {
      const json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_string())
        return Fail(Error("stdin line " + std::to_string(n) + ": expected a JSON string"));
      auto ids = EncodeOne(*tok, j.get<std::string>(), args);
      if (!ids.ok()) return Fail(Error("stdin line " + std::to_string(n) + ": " + ids.status().message()));
      std::printf("%s\n", IdsJson(*ids).c_str());
    }
    return 0;
  }
  const std::string text = args.Has("prompt") ? args.Get("prompt") : ReadStdin();
  auto ids = EncodeOne(*tok, text, args);
  if (!ids.ok()) return Fail(ids.status());
  if (args.Has("pieces")) {
    PrintPieces(*tok, *ids);
  } else {
    std::printf("%s\n", IdsJson(*ids).c_str());
  }
  return 0;
}

int DetokenizeCommand(const Args& args) {
  Status st = args.CheckKnown({"model", "tokenizer", "ids", "tokens", "jsonl", "skip-special"});
  if (!st.ok()) return Fail(st);
  auto tok = TokenizerFromArgs(args);
  if (!tok.ok()) return Fail(tok.status());
  const bool skip = args.Has("skip-special");

  if (args.Has("jsonl")) {
    std::string line;
    for (int n = 1; std::getline(std::cin, line); ++n) {
      auto ids = CheckedIds(json::parse(line, nullptr, false), *tok, "stdin line " + std::to_string(n));
      if (!ids.ok()) return Fail(ids.status());
      std::printf("%s\n", json(tok->Decode(*ids, skip)).dump(-1, ' ', false).c_str());
    }
    return 0;
  }
  const std::string list = args.Has("ids") ? args.Get("ids") : args.Get("tokens");  // --tokens as in `run`
  Result<std::vector<int32_t>> ids = !list.empty() ? ParseTokenList(list)
                                                   : CheckedIds(json::parse(ReadStdin(), nullptr, false), *tok, "stdin");
  if (!ids.ok()) return Fail(ids.status());
  auto checked = CheckedIds(json(*ids), *tok, "--ids");
  if (!checked.ok()) return Fail(checked.status());
  const std::string text = tok->Decode(*checked, skip);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace g3n::cli
