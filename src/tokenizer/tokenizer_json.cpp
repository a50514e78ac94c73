// Reads HF `tokenizers` JSON into a TokenizerSpec. The Gemma 3 / 3n pipeline is:
//   added tokens (all normalized=false) matched in the raw text, then
//   normalizer    Replace(" " -> "▁")
//   pre_tokenizer Split(" ", MergedWithPrevious): a no-op, since no " " survives the normalizer
//   model         BPE, byte_fallback, no subword prefix/suffix, no dropout
//   decoder       Replace("▁" -> " "), ByteFallback, Fuse
// The Tokenizer implements exactly that, so anything else is refused here by name.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tokenizer/tokenizer_spec.h"

namespace g3n {
namespace {

using json = nlohmann::json;
constexpr const char* kSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space

bool IsNull(const json& j, const char* key) { return !j.contains(key) || j[key].is_null(); }

std::string Brief(const json& j) {
  std::string s = j.dump();
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

bool IsReplace(const json& j, const std::string& from, const std::string& to) {
  return j.is_object() && j.value("type", "") == "Replace" && j.contains("pattern") && j["pattern"].is_object() &&
         j["pattern"].value("String", "\x01") == from && j.value("content", "\x01") == to;
}

Status CheckPipeline(const json& root, const std::string& src) {
  // Normalizer: Replace(" " -> "▁"), alone or as the only member of a Sequence.
  json norm = root.contains("normalizer") ? root["normalizer"] : json();
  if (norm.is_object() && norm.value("type", "") == "Sequence" && norm.contains("normalizers") &&
      norm["normalizers"].is_array() && norm["normalizers"].size() == 1)
    norm = norm["normalizers"][0];
  if (!IsReplace(norm, " ", kSpace))
    return Error(src + ": unsupported normalizer " + Brief(norm) + " (expected Replace \" \" -> \"\xE2\x96\x81\")");

  // Pre-tokenizer: none, or a Split on " " that the normalizer has already made impossible.
  if (!IsNull(root, "pre_tokenizer")) {
    const json& pt = root["pre_tokenizer"];
    const bool split_on_space = pt.is_object() && pt.value("type", "") == "Split" && pt.contains("pattern") &&
                                pt["pattern"].is_object() && pt["pattern"].value("String", "\x01") == " " &&
                                !pt.value("invert", false);
    if (!split_on_space)
      return Error(src + ": unsupported pre_tokenizer " + Brief(pt) + " (expected none or Split on \" \")");
  }

  // Decoder: Replace("▁" -> " "), ByteFallback, Fuse.
  const json dec = root.contains("decoder") ? root["decoder"] : json();
  const bool ok = dec.is_object() && dec.value("type", "") == "Sequence" && dec.contains("decoders") &&
                  dec["decoders"].is_array() && dec["decoders"].size() == 3 &&
                  IsReplace(dec["decoders"][0], kSpace, " ") &&
                  dec["decoders"][1].value("type", "") == "ByteFallback" &&
                  dec["decoders"][2].value("type", "") == "Fuse";
  if (!ok) return Error(src + ": unsupported decoder " + Brief(dec) + " (expected Replace, ByteFallback, Fuse)");
  return Status();
}

Status ParseModel(const json& model, const std::string& src, TokenizerSpec& spec,
                  std::unordered_map<std::string_view, int32_t>& ids) {
  if (!model.is_object() || model.value("type", "") != "BPE")
    return Error(src + ": model must be an object of type \"BPE\"");
  if (!IsNull(model, "dropout") && !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0))
    return Error(src + ": BPE dropout is not supported");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!IsNull(model, k) && !(model[k].is_string() && model[k].get<std::string>().empty()))
      return Error(src + ": BPE " + k + " is not supported");
  if (model.value("ignore_merges", false)) return Error(src + ": BPE ignore_merges=true is not supported");
  spec.byte_fallback = model.value("byte_fallback", false);
  spec.fuse_unk = model.value("fuse_unk", false);

  if (!model.contains("vocab") || !model["vocab"].is_object()) return Error(src + ": model.vocab must be an object");
  const json& vocab = model["vocab"];
  std::vector<const std::string*> by_id;
  for (const auto& [piece, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 30))
      return Error(src + ": model.vocab['" + piece + "'] is not a valid id");
    const size_t i = id.get<size_t>();
    if (i >= by_id.size()) by_id.resize(i + 1, nullptr);
    if (by_id[i] != nullptr) return Error(src + ": vocab id " + std::to_string(i) + " is given twice");
    if (piece.empty()) return Error(src + ": model.vocab has an empty piece");
    by_id[i] = &piece;
  }
  spec.piece_blob.reserve(4u << 20);
  spec.piece_offsets.reserve(by_id.size() + 1);
  for (const std::string* p : by_id) spec.AppendPiece(p != nullptr ? std::string_view(*p) : std::string_view());
  for (int32_t i = 0; i < spec.num_pieces(); ++i)
    if (!spec.piece(i).empty()) ids.emplace(spec.piece(i), i);

  if (!IsNull(model, "unk_token")) {
    if (!model["unk_token"].is_string()) return Error(src + ": model.unk_token must be a string");
    auto it = ids.find(model["unk_token"].get<std::string>());
    if (it == ids.end()) return Error(src + ": unk_token '" + model["unk_token"].get<std::string>() + "' is not in the vocabulary");
    spec.unk_id = it->second;
  }

  if (!model.contains("merges") || !model["merges"].is_array()) return Error(src + ": model.merges must be a list");
  const json& merges = model["merges"];
  spec.merges.reserve(merges.size());
  std::string joined;
  for (size_t r = 0; r < merges.size(); ++r) {
    const json& m = merges[r];
    std::string a, b;
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else if (m.is_string()) {  // the older "a b" form
      const std::string s = m.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        return Error(src + ": merge " + std::to_string(r) + " '" + s + "' is not two pieces");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else {
      return Error(src + ": merge " + std::to_string(r) + " must be [left, right]");
    }
    joined = a + b;
    auto ia = ids.find(a), ib = ids.find(b), ij = ids.find(joined);
    if (ia == ids.end() || ib == ids.end() || ij == ids.end())
      return Error(src + ": merge " + std::to_string(r) + " (" + a + ", " + b + ") uses a piece not in the vocabulary");
    spec.merges.push_back(Merge{ia->second, ib->second, ij->second});
  }
  return Status();
}

Status ParseAddedTokens(const json& root, const std::string& src, TokenizerSpec& spec) {
  if (IsNull(root, "added_tokens")) return Status();
  if (!root["added_tokens"].is_array()) return Error(src + ": added_tokens must be a list");
  for (const json& t : root["added_tokens"]) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || t["id"].get<int64_t>() < 0 ||
        t["id"].get<int64_t>() >= (1 << 30) || !t.contains("content") || !t["content"].is_string() ||
        t["content"].get<std::string>().empty())
      return Error(src + ": malformed added token " + Brief(t));
    AddedToken a;
    a.id = t["id"].get<int32_t>();
    a.content = t["content"].get<std::string>();
    a.special = t.value("special", false);
    for (const char* k : {"single_word", "lstrip", "rstrip", "normalized"})
      if (t.value(k, false))
        return Error(src + ": added token '" + a.content + "' has " + k + "=true, which is not supported");
    spec.added.push_back(std::move(a));
  }
  return Status();
}

// bos_token in tokenizer_config.json is a string or an AddedToken-like object.
std::string TokenText(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return "";
}

Status ParseBos(const json& root, const json& config, const std::string& src,
                const std::unordered_map<std::string_view, int32_t>& ids, TokenizerSpec& spec) {
  // Without a config: the post-processor template says whether a special token leads.
  std::string bos;
  if (root.contains("post_processor") && root["post_processor"].is_object()) {
    const json& pp = root["post_processor"];
    if (pp.value("type", "") == "TemplateProcessing" && pp.contains("single") && pp["single"].is_array() &&
        !pp["single"].empty() && pp["single"][0].contains("SpecialToken")) {
      bos = pp["single"][0]["SpecialToken"].value("id", "");
      spec.add_bos = !bos.empty();
    }
  }
  if (config.is_object()) {
    if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean())
      spec.add_bos = config["add_bos_token"].get<bool>();
    if (config.contains("bos_token") && !TokenText(config["bos_token"]).empty()) bos = TokenText(config["bos_token"]);
    if (config.value("add_eos_token", false)) return Error(src + ": add_eos_token=true is not supported");
  }
  if (bos.empty()) {
    if (spec.add_bos) return Error(src + ": add_bos_token is set but no bos_token is named");
    return Status();
  }
  for (const AddedToken& a : spec.added)
    if (a.content == bos) spec.bos_id = a.id;
  if (spec.bos_id < 0) {
    auto it = ids.find(bos);
    if (it != ids.end()) spec.bos_id = it->second;
  }
  if (spec.bos_id < 0 && spec.add_bos) return Error(src + ": bos_token '" + bos + "' is not in the vocabulary");
  return Status();
}

}  // namespace

Result<TokenizerSpec> ParseTokenizerJson(const std::string& json_text, const std::string& config_text,
                                         const std::string& source) {
  const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) return Error(source + ": not a valid JSON object");
  json config;
  if (!config_text.empty()) {
    config = json::parse(config_text, nullptr, false);
    if (config.is_discarded() || !config.is_object())
      return Error(source + ": tokenizer_config.json is not a valid JSON object");
  }
  G3N_RETURN_IF_ERROR(CheckPipeline(root, source));
  TokenizerSpec spec;
  std::unordered_map<std::string_view, int32_t> ids;
  if (!root.contains("model")) return Error(source + ": missing 'model'");
  G3N_RETURN_IF_ERROR(ParseModel(root["model"], source, spec, ids));
  G3N_RETURN_IF_ERROR(ParseAddedTokens(root, source, spec));
  G3N_RETURN_IF_ERROR(ParseBos(root, config, source, ids, spec));
  // Every character must have some encoding: its own piece, byte pieces, or <unk>.
  if (spec.unk_id < 0) {
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const std::string p = std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
      if (!spec.byte_fallback || ids.find(p) == ids.end())
        return Error(source + ": without unk_token, byte_fallback and all 256 byte pieces (<0x00>..<0xFF>) are needed");
    }
  }
  return spec;
}

}  // namespace g3n
