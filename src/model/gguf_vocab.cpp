#include "model/gguf_vocab.h"

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "io/mapped_file.h"

namespace g3n {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Minimal protobuf wire-format reader (varints, fixed32/64, length-delimited).
class Proto {
 public:
  Proto(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool done() const { return pos_ >= n_; }
  size_t pos() const { return pos_; }
  bool Varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= n_) return false;
      const uint8_t b = p_[pos_++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool Bytes(const uint8_t*& data, size_t& len) {
    uint64_t l = 0;
    if (!Varint(l) || l > n_ - pos_) return false;
    data = p_ + pos_;
    len = static_cast<size_t>(l);
    pos_ += len;
    return true;
  }
  bool Fixed(size_t k, uint64_t& v) {
    if (k > n_ - pos_) return false;
    v = 0;
    std::memcpy(&v, p_ + pos_, k);
    pos_ += k;
    return true;
  }
  bool Skip(uint32_t wire) {
    uint64_t v;
    const uint8_t* d;
    size_t l;
    switch (wire) {
      case 0: return Varint(v);
      case 1: return Fixed(8, v);
      case 2: return Bytes(d, l);
      case 5: return Fixed(4, v);
      default: return false;
    }
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

Result<json> ReadJson(const fs::path& p) {
  G3N_ASSIGN_OR_RETURN(std::string text, ReadTextFile(p.string()));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(p.string() + ": not a valid JSON object");
  return j;
}

// The converter's does_token_look_special (Gemma marks some control tokens non-special).
bool LooksSpecial(const std::string& t) {
  auto starts = [&](const char* s) { return t.rfind(s, 0) == 0; };
  auto ends = [&](const char* s) {
    const size_t n = std::strlen(s);
    return t.size() >= n && t.compare(t.size() - n, n, s) == 0;
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || (starts("<|") && ends("|>")) ||
         (starts("<\xef\xbd\x9c") && ends("\xef\xbd\x9c>")) || (starts("<unused") && ends(">"));
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// The `{typ}_token` entry of tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> TokenContent(const json& cfg, const std::string& key) {
  if (!cfg.contains(key)) return std::nullopt;
  const json& e = cfg[key];
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object() && e.contains("content") && e["content"].is_string()) return e["content"].get<std::string>();
  return std::nullopt;
}

// SpecialVocab: special ids, add_* flags and the chat template, in the converter's order.
Status ReadSpecialVocab(const fs::path& dir, HfVocab& v) {
  const int n_vocab = static_cast<int>(v.tokens.size());
  const char* const kTypes[] = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
  auto set_id = [&](const std::string& typ, const json& id) {
    if (!id.is_number_integer()) return;
    const int64_t x = id.get<int64_t>();
    if (x < 0 || x >= n_vocab) return;
    for (const auto& [t, _] : v.special_ids)
      if (t == typ) return;
    v.special_ids.emplace_back(typ, static_cast<int32_t>(x));
  };
  auto set_flag = [&](const std::string& typ, bool b, bool overwrite) {
    for (auto& [t, val] : v.add_flags)
      if (t == typ) {
        if (overwrite) val = b;
        return;
      }
    v.add_flags.emplace_back(typ, b);
  };

  json tok, cfg;
  const bool has_tok = fs::is_regular_file(dir / "tokenizer.json");
  const bool has_cfg = fs::is_regular_file(dir / "tokenizer_config.json");
  if (has_tok) {
    G3N_ASSIGN_OR_RETURN(tok, ReadJson(dir / "tokenizer.json"));
  }
  if (has_cfg) {
    G3N_ASSIGN_OR_RETURN(cfg, ReadJson(dir / "tokenizer_config.json"));
  }
  if (has_tok) {
    const auto bos = has_cfg ? TokenContent(cfg, "bos_token") : std::nullopt;
    const auto eos = has_cfg ? TokenContent(cfg, "eos_token") : std::nullopt;
    const auto sep = has_cfg ? TokenContent(cfg, "sep_token") : std::nullopt;
    if (tok.contains("post_processor") && tok["post_processor"].is_object()) {
      const json& pp = tok["post_processor"];
      std::vector<json> procs;
      if (pp.contains("processors") && pp["processors"].is_array()) procs.assign(pp["processors"].begin(), pp["processors"].end());
      else procs.push_back(pp);
      auto special_of = [](const json& item) -> std::optional<std::string> {
        if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].is_object() &&
            item["SpecialToken"].contains("id") && item["SpecialToken"]["id"].is_string())
          return item["SpecialToken"]["id"].get<std::string>();
        return std::nullopt;
      };
      for (const json& p : procs) {
        const std::string type = p.contains("type") && p["type"].is_string() ? p["type"].get<std::string>() : "";
        if (type == "ByteLevel") {
          set_flag("bos", false, false);
          set_flag("eos", false, false);
        } else if (type == "RobertaProcessing") {
          set_flag("bos", true, true);
          set_flag("eos", true, true);
          set_flag("sep", true, true);
        } else if (type == "TemplateProcessing" && p.contains("single") && p["single"].is_array()) {
          // Simple templates only, like the converter: <first> A [<last>] and A <sep> B.
          const json& single = p["single"];
          std::optional<std::string> first, last;
          if (single.size() > 1) {
            first = special_of(single.front());
            if (first) set_flag("bos", first == bos, true);
            last = special_of(single.back());
            if (last) set_flag("eos", last == eos, true);
          }
          if (p.contains("pair") && p["pair"].is_array() && !p["pair"].empty()) {
            std::vector<json> pair(p["pair"].begin(), p["pair"].end());
            size_t b = (first && special_of(pair.front()) == first) ? 1 : 0;
            size_t e = (last && special_of(pair.back()) == last) ? pair.size() - 1 : pair.size();
            if (e > b + 2) {
              bool add_sep = false;
              const auto mid = special_of(pair[b + 1]);
              if (mid && (mid == sep || mid == eos) && !last) add_sep = true;
              if (e - b == 4) {
                const auto mid2 = special_of(pair[b + 2]);
                if (mid2 && (mid2 == sep || mid2 == eos)) add_sep = true;
              }
              set_flag("sep", add_sep, true);
            }
          }
        }
      }
    }
  }
  if (has_cfg) {
    if (cfg.contains("chat_template") && cfg["chat_template"].is_string()) v.chat_template = cfg["chat_template"].get<std::string>();
    if (!v.chat_template) {
      if (fs::is_regular_file(dir / "chat_template.jinja")) {
        G3N_ASSIGN_OR_RETURN(std::string t, ReadTextFile((dir / "chat_template.jinja").string()));
        v.chat_template = t;
      } else if (fs::is_regular_file(dir / "chat_template.json")) {
        G3N_ASSIGN_OR_RETURN(json ct, ReadJson(dir / "chat_template.json"));
        if (ct.contains("chat_template") && ct["chat_template"].is_string())
          v.chat_template = ct["chat_template"].get<std::string>();
      }
    }
    const json added = has_tok && tok.contains("added_tokens") && tok["added_tokens"].is_array() ? tok["added_tokens"] : json::array();
    for (const char* typ : kTypes) {
      const std::string t = typ;
      if (cfg.contains("add_" + t + "_token") && cfg["add_" + t + "_token"].is_boolean())
        set_flag(t, cfg["add_" + t + "_token"].get<bool>(), false);
      const auto content = TokenContent(cfg, t + "_token");
      if (!content) continue;
      for (const json& a : added)
        if (a.is_object() && a.contains("content") && a["content"] == *content && a.contains("id")) {
          set_id(t, a["id"]);
          break;
        }
    }
  }
  if (fs::is_regular_file(dir / "config.json")) {
    G3N_ASSIGN_OR_RETURN(json c, ReadJson(dir / "config.json"));
    for (const char* typ : kTypes) {
      const std::string key = std::string(typ) + "_token_id";
      if (c.contains(key) && !c[key].is_null()) set_id(typ, c[key]);
      else if (c.contains("text_config") && c["text_config"].is_object() && c["text_config"].contains(key))
        set_id(typ, c["text_config"][key]);
    }
  }
  return Status();
}

}  // namespace

Result<std::vector<SentencePiece>> ParseSentencePieceModel(const std::string& bytes, const std::string& path) {
  std::vector<SentencePiece> out;
  Proto top(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  while (!top.done()) {
    const size_t at = top.pos();
    uint64_t key = 0;
    if (!top.Varint(key)) return Error(path + ": corrupt SentencePiece model (bad field key at byte " + std::to_string(at) + ")");
    const uint32_t field = static_cast<uint32_t>(key >> 3), wire = static_cast<uint32_t>(key & 7);
    if (field != 1 || wire != 2) {
      if (!top.Skip(wire)) return Error(path + ": corrupt SentencePiece model (field " + std::to_string(field) + " at byte " + std::to_string(at) + ")");
      continue;
    }
    const uint8_t* d = nullptr;
    size_t len = 0;
    if (!top.Bytes(d, len)) return Error(path + ": truncated SentencePiece model (piece at byte " + std::to_string(at) + ")");
    SentencePiece sp;
    Proto m(d, len);
    while (!m.done()) {
      uint64_t k = 0, v = 0;
      if (!m.Varint(k)) return Error(path + ": corrupt piece #" + std::to_string(out.size()));
      const uint32_t f = static_cast<uint32_t>(k >> 3), w = static_cast<uint32_t>(k & 7);
      if (f == 1 && w == 2) {
        const uint8_t* s = nullptr;
        size_t sl = 0;
        if (!m.Bytes(s, sl)) return Error(path + ": corrupt piece #" + std::to_string(out.size()));
        sp.piece.assign(reinterpret_cast<const char*>(s), sl);
      } else if (f == 2 && w == 5) {
        if (!m.Fixed(4, v)) return Error(path + ": corrupt piece #" + std::to_string(out.size()));
        const uint32_t u = static_cast<uint32_t>(v);
        std::memcpy(&sp.score, &u, 4);
      } else if (f == 3 && w == 0) {
        if (!m.Varint(v) || v < 1 || v > 6) return Error(path + ": piece #" + std::to_string(out.size()) + " has a bad type");
        sp.type = static_cast<int32_t>(v);
      } else if (!m.Skip(w)) {
        return Error(path + ": corrupt piece #" + std::to_string(out.size()));
      }
    }
    out.push_back(std::move(sp));
  }
  if (out.empty()) return Error(path + ": SentencePiece model has no pieces");
  return out;
}

Result<std::vector<SentencePiece>> SentencePiecesFromTokenizerJson(const std::string& path) {
  G3N_ASSIGN_OR_RETURN(json tj, ReadJson(path));
  const json* model = tj.contains("model") ? &tj["model"] : nullptr;
  if (model == nullptr || !model->is_object() || model->value("type", "") != "BPE" || !model->contains("vocab") ||
      !(*model)["vocab"].is_object() || !model->contains("merges") || !(*model)["merges"].is_array())
    return Error(path + ": expected a BPE model with vocab and merges");
  const json& vocab = (*model)["vocab"];
  std::vector<SentencePiece> pieces(vocab.size());
  std::vector<bool> seen(vocab.size(), false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer()) return Error(path + ": vocab id of '" + it.key() + "' is not an integer");
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= static_cast<int64_t>(pieces.size()) || seen[id])
      return Error(path + ": vocab ids are not 0.." + std::to_string(pieces.size() - 1));
    seen[id] = true;
    pieces[id].piece = it.key();
  }
  std::unordered_map<std::string, int32_t> id_of;
  id_of.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) id_of.emplace(pieces[i].piece, static_cast<int32_t>(i));
  const json& merges = (*model)["merges"];
  std::vector<int32_t> made_in_order;  // pieces in the order their first merge appears
  std::vector<bool> scored(pieces.size(), false);
  for (size_t r = 0; r < merges.size(); ++r) {
    const json& m = merges[r];
    std::string merged;
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merged = m[0].get<std::string>() + m[1].get<std::string>();
    } else if (m.is_string()) {  // older "a b" form
      const std::string s = m.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos) return Error(path + ": merge " + std::to_string(r) + " is malformed");
      merged = s.substr(0, sp) + s.substr(sp + 1);
    } else {
      return Error(path + ": merge " + std::to_string(r) + " is malformed");
    }
    auto it = id_of.find(merged);
    if (it == id_of.end() || scored[it->second]) continue;
    scored[it->second] = true;
    made_in_order.push_back(it->second);
  }
  for (SentencePiece& p : pieces) {
    const std::string& s = p.piece;
    if (s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>') p.type = kTokByte;
  }
  if (tj.contains("added_tokens") && tj["added_tokens"].is_array()) {
    for (const json& a : tj["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer()) continue;
      const int64_t id = a["id"].get<int64_t>();
      if (id < 0 || id >= static_cast<int64_t>(pieces.size())) continue;
      const bool special = a.value("special", false);
      const std::string content = a.value("content", "");
      pieces[id].type = content == "<unk>" ? kTokUnknown : special ? kTokControl : kTokUserDefined;
    }
  }
  // SentencePiece BPE scores: 0 for added pieces, and 0, -1, -2, ... for the normal pieces in
  // the order they are merged (below them, pieces no merge makes).
  float next = 0.0f;
  for (int32_t id : made_in_order)
    if (pieces[id].type == kTokNormal) pieces[id].score = next--;
  for (size_t id = 0; id < pieces.size(); ++id) {
    if (pieces[id].type != kTokNormal) pieces[id].score = 0.0f;
    else if (!scored[id]) pieces[id].score = next;
  }
  return pieces;
}

Result<HfVocab> ReadHfVocab(const std::string& dir_str, int vocab_size) {
  const fs::path dir(dir_str);
  const fs::path model = dir / "tokenizer.model";
  std::vector<SentencePiece> pieces;
  if (fs::is_regular_file(model)) {
    G3N_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mf, MappedFile::Open(model.string()));
    const std::string bytes(reinterpret_cast<const char*>(mf->data()), mf->size());
    G3N_ASSIGN_OR_RETURN(pieces, ParseSentencePieceModel(bytes, model.string()));
  } else if (fs::is_regular_file(dir / "tokenizer.json")) {
    G3N_ASSIGN_OR_RETURN(pieces, SentencePiecesFromTokenizerJson((dir / "tokenizer.json").string()));
  } else {
    return Error(dir.string() + ": neither tokenizer.model nor tokenizer.json found");
  }
  if (vocab_size <= 0) vocab_size = static_cast<int>(pieces.size());

  HfVocab v;
  v.tokens.resize(vocab_size);
  v.scores.assign(vocab_size, -10000.0f);
  v.types.assign(vocab_size, kTokUnused);
  for (int i = 0; i < vocab_size; ++i) v.tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (size_t i = 0; i < pieces.size() && i < static_cast<size_t>(vocab_size); ++i) {
    const SentencePiece& p = pieces[i];
    v.tokens[i] = p.piece;
    v.scores[i] = p.score;
    // The converter asks the processor IsUnknown / IsControl / IsUnused / IsByte; user-defined
    // pieces count as normal there.
    v.types[i] = (p.type == kTokUnknown || p.type == kTokControl || p.type == kTokUnused || p.type == kTokByte) ? p.type
                                                                                                                 : kTokNormal;
  }
  if (fs::is_regular_file(dir / "added_tokens.json")) {
    G3N_ASSIGN_OR_RETURN(json added, ReadJson(dir / "added_tokens.json"));
    for (auto it = added.begin(); it != added.end(); ++it) {
      if (!it.value().is_number_integer()) continue;
      const int64_t id = it.value().get<int64_t>();
      if (id < 0 || id >= vocab_size) continue;
      v.tokens[id] = it.key();
      v.scores[id] = -1000.0f;
      v.types[id] = kTokUserDefined;
    }
  }
  if (fs::is_regular_file(dir / "tokenizer_config.json")) {
    G3N_ASSIGN_OR_RETURN(json cfg, ReadJson(dir / "tokenizer_config.json"));
    if (cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object()) {
      for (auto it = cfg["added_tokens_decoder"].begin(); it != cfg["added_tokens_decoder"].end(); ++it) {
        char* end = nullptr;
        const long long id = std::strtoll(it.key().c_str(), &end, 10);
        if (end == it.key().c_str() || *end != '\0' || id < 0 || id >= vocab_size) continue;
        const json& d = it.value();
        if (!d.is_object() || !d.contains("content") || !d["content"].is_string()) continue;
        std::string content = d["content"].get<std::string>();
        const bool special = d.contains("special") && d["special"].is_boolean() && d["special"].get<bool>();
        if (special || LooksSpecial(content)) {
          v.types[id] = kTokControl;
        } else {
          content = ReplaceAll(content, "\xe2\x96\x81", " ");
          v.types[id] = kTokUserDefined;
        }
        v.scores[id] = -1000.0f;
        v.tokens[id] = content;
      }
    }
  }
  G3N_RETURN_IF_ERROR(ReadSpecialVocab(dir, v));
  return v;
}

void WriteGgufVocab(const HfVocab& v, GgufWriter& w) {
  w.AddString("tokenizer.ggml.model", "llama");
  w.AddString("tokenizer.ggml.pre", "default");
  w.AddStringArray("tokenizer.ggml.tokens", v.tokens);
  w.AddF32Array("tokenizer.ggml.scores", v.scores);
  w.AddI32Array("tokenizer.ggml.token_type", v.types);
  for (const auto& [typ, id] : v.special_ids) {
    const std::string name = typ == "unk" ? "unknown" : typ == "sep" ? "seperator" : typ == "pad" ? "padding" : typ;
    w.AddU32("tokenizer.ggml." + name + "_token_id", static_cast<uint32_t>(id));
  }
  for (const auto& [typ, b] : v.add_flags) w.AddBool("tokenizer.ggml.add_" + typ + "_token", b);
  if (v.chat_template) w.AddString("tokenizer.chat_template", *v.chat_template);
  w.AddBool("tokenizer.ggml.add_space_prefix", false);  // Gemma 3 family
}

}  // namespace g3n
