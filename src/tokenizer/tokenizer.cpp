#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <filesystem>

#include "io/mapped_file.h"
#include "tokenizer/tokenizer_cache.h"
#include "tokenizer/utf8.h"
#include "util/sysinfo.h"

namespace g3n {
namespace {

uint64_t HashPiece(std::string_view s) { return Hash64(s.data(), s.size(), 0x7A3F); }

// HF's ByteFallback decoder test: six bytes "<0x" HH ">" where HH parses as a u8 in base 16
// (Rust's from_str_radix, which also takes a leading '+').
int ByteValue(std::string_view p) {
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return -1;
  const auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (p[3] == '+') return digit(p[4]);
  const int hi = digit(p[3]), lo = digit(p[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

void AppendPieceText(std::string_view piece, std::string& out) {
  // The decoder's Replace("▁" -> " ").
  size_t from = 0;
  for (size_t at = piece.find("\xE2\x96\x81"); at != std::string_view::npos; at = piece.find("\xE2\x96\x81", from)) {
    out.append(piece.substr(from, at - from));
    out.push_back(' ');
    from = at + 3;
  }
  out.append(piece.substr(from));
}

}  // namespace

Result<Tokenizer> Tokenizer::FromSpec(TokenizerSpec spec) {
  Tokenizer t;
  t.spec_ = std::make_unique<TokenizerSpec>(std::move(spec));
  G3N_RETURN_IF_ERROR(t.Build());
  return t;
}

Result<Tokenizer> Tokenizer::FromFile(const std::string& json_path, const std::string& config_path,
                                      const TokenizerLoadOptions& options, TokenizerLoadInfo* info) {
  const double t0 = NowSeconds();
  TokenizerLoadInfo li;
  G3N_ASSIGN_OR_RETURN(SourceStamp js, StampFile(json_path));
  G3N_ASSIGN_OR_RETURN(SourceStamp cs, StampFile(config_path));
  std::vector<std::string> caches;
  if (options.use_cache && js.size >= options.min_cache_source_bytes) {
    if (!options.cache_path.empty()) {
      caches.push_back(options.cache_path);
    } else {
      caches.push_back(CachePathBeside(json_path));
      const std::string user = CachePathInUserCache(json_path);
      if (!user.empty()) caches.push_back(user);
    }
  }
  for (const std::string& c : caches) {
    auto cached = ReadTokenizerCache(c, js, cs);
    if (!cached.ok()) continue;
    auto t = FromSpec(std::move(*cached));
    if (!t.ok()) continue;  // a cache that does not build is as good as none
    li.from_cache = true;
    li.cache_path = c;
    li.seconds = NowSeconds() - t0;
    if (info != nullptr) *info = li;
    return t;
  }

  G3N_ASSIGN_OR_RETURN(std::string json_text, ReadTextFile(json_path));
  std::string config_text;
  if (!config_path.empty()) {
    G3N_ASSIGN_OR_RETURN(config_text, ReadTextFile(config_path));
  }
  G3N_ASSIGN_OR_RETURN(TokenizerSpec spec, ParseTokenizerJson(json_text, config_text, json_path));
  json_text = std::string();  // 33 MB we no longer need
  for (const std::string& c : caches) {
    if (WriteTokenizerCache(c, spec, js, cs).ok()) {
      li.cache_written = true;
      li.cache_path = c;
      break;
    }
  }
  G3N_ASSIGN_OR_RETURN(Tokenizer t, FromSpec(std::move(spec)));
  li.seconds = NowSeconds() - t0;
  if (info != nullptr) *info = li;
  return t;
}

Result<Tokenizer> Tokenizer::FromModelDir(const std::string& dir, const TokenizerLoadOptions& options,
                                          TokenizerLoadInfo* info) {
  namespace fs = std::filesystem;
  const fs::path json = fs::path(dir) / "tokenizer.json";
  const fs::path config = fs::path(dir) / "tokenizer_config.json";
  std::error_code ec;
  if (!fs::exists(json, ec))
    return Error(json.string() + ": not found (the checkpoint folder needs the Hugging Face tokenizer.json)");
  return FromFile(json.string(), fs::exists(config, ec) ? config.string() : "", options, info);
}

Result<Tokenizer> Tokenizer::WithSpecialTokens(const std::vector<AddedToken>& tokens) const {
  TokenizerSpec spec = *spec_;
  for (const AddedToken& tok : tokens) {
    if (tok.id < 0 || tok.content.empty()) return Error("special token '" + tok.content + "': bad id or empty text");
    std::erase_if(spec.added, [&](const AddedToken& a) { return a.id == tok.id || a.content == tok.content; });
    spec.added.push_back(AddedToken{tok.id, tok.content, true});
    if (tok.id < spec.num_pieces() && spec.piece(tok.id) != tok.content) {
      // Rebuild the blob with the renamed piece: rare, and only at load.
      TokenizerSpec renamed = spec;
      renamed.piece_blob.clear();
      renamed.piece_offsets.assign(1, 0);
      for (int32_t i = 0; i < spec.num_pieces(); ++i)
        renamed.AppendPiece(i == tok.id ? std::string_view(tok.content) : spec.piece(i));
      spec = std::move(renamed);
    }
  }
  return FromSpec(std::move(spec));
}

Status Tokenizer::Build() {
  const TokenizerSpec& s = *spec_;
  int32_t n = s.num_pieces();
  for (const AddedToken& a : s.added) n = std::max(n, a.id + 1);
  pieces_.assign(static_cast<size_t>(n), std::string_view());
  special_.assign(static_cast<size_t>(n), 0);
  for (int32_t i = 0; i < s.num_pieces(); ++i) pieces_[i] = s.piece(i);
  for (const AddedToken& a : s.added) {
    pieces_[a.id] = a.content;
    special_[a.id] = a.special;
  }
  if (s.bos_id >= n || s.unk_id >= n) return Error("tokenizer: bos/unk id lies outside the vocabulary");

  byte_value_.assign(static_cast<size_t>(n), -1);
  for (int32_t i = 0; i < n; ++i) byte_value_[i] = static_cast<int16_t>(ByteValue(pieces_[i]));

  // Piece -> id, open addressing. A slot holds a BPE id (>= 0, key: its BPE piece) or added
  // token k as -(k + 2) (key: its content), so a renamed id is found under both of its names;
  // added tokens are inserted last and replace an equal BPE key, as HF looks them up first.
  size_t cap = 16;
  while (cap < 2 * (static_cast<size_t>(s.num_pieces()) + s.added.size())) cap <<= 1;
  index_.assign(cap, -1);
  const auto insert = [&](std::string_view p, int32_t slot_value) {
    size_t i = HashPiece(p) & (cap - 1);
    while (index_[i] != -1 && IndexKey(index_[i]) != p) i = (i + 1) & (cap - 1);
    index_[i] = slot_value;
  };
  for (int32_t i = 0; i < s.num_pieces(); ++i)
    if (!s.piece(i).empty()) insert(s.piece(i), i);
  for (size_t k = 0; k < s.added.size(); ++k) insert(s.added[k].content, -static_cast<int32_t>(k) - 2);

  bpe_.Build(s);
  added_ = AddedTokenMatcher();
  for (const AddedToken& a : s.added) added_.Add(a.content, a.id);
  return Status();
}

std::string_view Tokenizer::IndexKey(int32_t slot) const {
  return slot >= 0 ? spec_->piece(slot) : std::string_view(spec_->added[-slot - 2].content);
}

int32_t Tokenizer::TokenId(std::string_view piece) const {
  if (index_.empty() || piece.empty()) return -1;
  const size_t mask = index_.size() - 1;
  for (size_t i = HashPiece(piece) & mask; index_[i] != -1; i = (i + 1) & mask)
    if (IndexKey(index_[i]) == piece) return index_[i] >= 0 ? index_[i] : spec_->added[-index_[i] - 2].id;
  return -1;
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (add_bos && spec_->bos_id >= 0) ids.push_back(spec_->bos_id);
  std::string repaired;
  if (!utf8::IsValid(text)) {
    repaired = utf8::Sanitize(text);
    text = repaired;
  }
  BpeScratch sc;
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    int32_t id;
    size_t len;
    if (added_.MatchAt(text, i, &id, &len)) {
      if (i > start) bpe_.EncodeSegment(text.substr(start, i - start), ids, sc);
      ids.push_back(id);
      i += len;
      start = i;
    } else {
      ++i;  // added tokens are valid UTF-8, so they can only match at a character start
    }
  }
  if (start < text.size()) bpe_.EncodeSegment(text.substr(start), ids, sc);
  return ids;
}

void Tokenizer::DecodeStep(int32_t id, bool skip_special, std::string& pending_bytes, std::string& out) const {
  if (id < 0 || id >= vocab_size() || pieces_[id].empty()) return;  // HF drops unknown ids
  if (skip_special && special_[id]) return;
  if (byte_value_[id] >= 0) {
    pending_bytes.push_back(static_cast<char>(byte_value_[id]));
    return;
  }
  FlushBytes(pending_bytes, out);
  AppendPieceText(pieces_[id], out);
}

void Tokenizer::FlushBytes(std::string& pending_bytes, std::string& out) {
  if (pending_bytes.empty()) return;
  if (utf8::IsValid(pending_bytes)) {
    out += pending_bytes;
  } else {
    for (size_t i = 0; i < pending_bytes.size(); ++i) utf8::Append(out, utf8::kReplacement);
  }
  pending_bytes.clear();
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out, pending;
  out.reserve(ids.size() * 4);
  for (int32_t id : ids) DecodeStep(id, skip_special, pending, out);
  FlushBytes(pending, out);
  return out;
}

}  // namespace g3n
