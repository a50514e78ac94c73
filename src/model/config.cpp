#include "model/config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace g3n {
namespace {

using json = nlohmann::json;

// Reads optional keys with a type check; a key of the wrong type is an error naming it.
class Reader {
 public:
  Reader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}
  Status status() const { return st_; }
  bool has(const char* k) const { return j_.contains(k) && !j_[k].is_null(); }

  void Int(const char* k, int& out, bool required = false) {
    if (!Check(k, required)) return;
    const json& v = j_[k];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (1ll << 31) - 1)
      return Fail(std::string("key '") + k + "' must be a non-negative integer below 2^31, not " + v.dump());
    out = v.get<int>();
  }
  void Float(const char* k, float& out) {
    if (!Check(k, false)) return;
    if (!j_[k].is_number()) return Fail(std::string("key '") + k + "' must be a number");
    out = j_[k].get<float>();
  }
  void Bool(const char* k, bool& out) {
    if (!Check(k, false)) return;
    if (!j_[k].is_boolean()) return Fail(std::string("key '") + k + "' must be true or false");
    out = j_[k].get<bool>();
  }
  void IntOrList(const char* k, std::vector<int>& out, bool required) {
    if (!Check(k, required)) return;
    const json& v = j_[k];
    out.clear();
    auto in_range = [](const json& e) {
      return e.is_number_integer() && e.get<int64_t>() >= -(1ll << 31) && e.get<int64_t>() < (1ll << 31) &&
             !(e.is_number_unsigned() && e.get<uint64_t>() >= (1ull << 31));
    };
    if (v.is_number_integer()) {
      if (!in_range(v)) return Fail(std::string("key '") + k + "' is out of range: " + v.dump());
      out.push_back(v.get<int>());
      return;
    }
    if (!v.is_array()) return Fail(std::string("key '") + k + "' must be an integer or a list of integers");
    for (const auto& e : v) {
      if (!e.is_number_integer()) return Fail(std::string("key '") + k + "' must hold integers, not " + e.dump());
      if (!in_range(e)) return Fail(std::string("key '") + k + "' has an out-of-range entry " + e.dump());
      out.push_back(e.get<int>());
    }
  }
  void Fail(const std::string& msg) {
    if (st_.ok()) st_ = Error(where_ + ": " + msg);
  }

 private:
  bool Check(const char* k, bool required) {
    if (!st_.ok()) return false;
    if (!has(k)) {
      if (required) Fail(std::string("missing required key '") + k + "'");
      return false;
    }
    return true;
  }
  const json& j_;
  std::string where_;
  Status st_;
};

// json::value() throws when the key holds another type; this reports it instead.
Status StringKey(const json& j, const char* key, const std::string& def, const std::string& where, std::string& out) {
  out = def;
  if (!j.contains(key) || j[key].is_null()) return Status();
  if (!j[key].is_string()) return Error(where + ": key '" + key + "' must be a string, not " + j[key].dump());
  out = j[key].get<std::string>();
  return Status();
}

Status ParseRope(const json& t, TextConfig& c, Reader& r, const std::string& where) {
  r.Float("rope_theta", c.rope_theta_global);
  r.Float("rope_local_base_freq", c.rope_theta_local);
  if (t.contains("rope_scaling") && !t["rope_scaling"].is_null()) {
    const json& s = t["rope_scaling"];
    if (!s.is_object()) return Error(where + ": key 'rope_scaling' must be an object or null, not " + s.dump());
    std::string type;
    G3N_RETURN_IF_ERROR(StringKey(s, "type", "default", where + " (rope_scaling)", type));
    G3N_RETURN_IF_ERROR(StringKey(s, "rope_type", type, where + " (rope_scaling)", type));
    if (type != "default") return Error(where + ": rope_scaling type '" + type + "' is not supported");
  }
  if (t.contains("rope_parameters") && !t["rope_parameters"].is_null() && !t["rope_parameters"].is_object())
    return Error(where + ": key 'rope_parameters' must be an object");
  if (t.contains("rope_parameters") && t["rope_parameters"].is_object()) {
    const json& rp = t["rope_parameters"];
    auto theta_of = [&](const char* key, float& out) -> Status {
      if (!rp.contains(key)) return Status();
      const json& e = rp[key];
      if (!e.is_object()) return Error(where + ": rope_parameters." + key + " must be an object");
      std::string type;
      G3N_RETURN_IF_ERROR(StringKey(e, "rope_type", "default", where + " (rope_parameters." + key + ")", type));
      if (type != "default") return Error(where + ": rope_parameters." + key + ".rope_type '" + type + "' is not supported");
      if (e.contains("rope_theta")) {
        if (!e["rope_theta"].is_number()) return Error(where + ": rope_parameters." + key + ".rope_theta must be a number");
        out = e["rope_theta"].get<float>();
      }
      return Status();
    };
    G3N_RETURN_IF_ERROR(theta_of("full_attention", c.rope_theta_global));
    G3N_RETURN_IF_ERROR(theta_of("sliding_attention", c.rope_theta_local));
  }
  return r.status();
}

Status ParseText(const json& t, TextConfig& c, const std::string& where) {
  Reader r(t, where);
  r.Int("hidden_size", c.hidden_size, true);
  r.Int("num_hidden_layers", c.num_layers, true);
  r.Int("num_attention_heads", c.num_heads, true);
  r.Int("num_key_value_heads", c.num_kv_heads, true);
  r.Int("head_dim", c.head_dim, true);
  r.Int("vocab_size", c.vocab_size, true);
  r.Int("vocab_size_per_layer_input", c.vocab_size_per_layer_input, true);
  r.Int("hidden_size_per_layer_input", c.per_layer_dim, true);
  r.IntOrList("intermediate_size", c.intermediate_size, true);
  r.Int("sliding_window", c.sliding_window);
  r.Int("laurel_rank", c.laurel_rank);
  r.Int("altup_num_inputs", c.altup_num_inputs);
  r.Int("altup_active_idx", c.altup_active_idx);
  r.Int("num_kv_shared_layers", c.num_kv_shared_layers);
  r.Int("max_position_embeddings", c.max_position_embeddings);
  r.Float("rms_norm_eps", c.rms_norm_eps);
  r.Float("altup_coef_clip", c.altup_coef_clip);
  r.Bool("altup_correct_scale", c.altup_correct_scale);
  c.final_logit_softcap = 30.0f;
  if (t.contains("final_logit_softcapping") && t["final_logit_softcapping"].is_null()) c.final_logit_softcap = 0.0f;
  r.Float("final_logit_softcapping", c.final_logit_softcap);
  if (t.contains("attn_logit_softcapping") && !t["attn_logit_softcapping"].is_null())
    return Error(where + ": attn_logit_softcapping is set, but Gemma 3n has no attention soft-cap");
  G3N_RETURN_IF_ERROR(r.status());
  G3N_RETURN_IF_ERROR(ParseRope(t, c, r, where));

  const int L = c.num_layers;
  if (L <= 0) return Error(where + ": num_hidden_layers must be positive");
  const std::pair<const char*, int> positive[] = {{"hidden_size", c.hidden_size},
                                                  {"num_attention_heads", c.num_heads},
                                                  {"num_key_value_heads", c.num_kv_heads},
                                                  {"head_dim", c.head_dim},
                                                  {"vocab_size", c.vocab_size},
                                                  {"hidden_size_per_layer_input", c.per_layer_dim},
                                                  {"sliding_window", c.sliding_window},
                                                  {"max_position_embeddings", c.max_position_embeddings}};
  for (const auto& [key, value] : positive)
    if (value <= 0) return Error(where + ": key '" + key + "' must be positive, not " + std::to_string(value));
  if (c.num_heads % c.num_kv_heads != 0)
    return Error(where + ": num_attention_heads must be a multiple of num_key_value_heads");
  if (c.head_dim % 2 != 0) return Error(where + ": head_dim must be even (RoPE rotates halves)");
  if (c.vocab_size_per_layer_input > c.vocab_size || c.vocab_size_per_layer_input <= 0)
    return Error(where + ": vocab_size_per_layer_input must be in [1, vocab_size]");
  if (c.altup_num_inputs < 1 || c.altup_active_idx >= c.altup_num_inputs)
    return Error(where + ": altup_active_idx must be below altup_num_inputs");
  if (c.intermediate_size.size() == 1) c.intermediate_size.assign(L, c.intermediate_size[0]);
  if (static_cast<int>(c.intermediate_size.size()) != L)
    return Error(where + ": key 'intermediate_size' has " + std::to_string(c.intermediate_size.size()) +
                 " entries but num_hidden_layers is " + std::to_string(L));
  for (int f : c.intermediate_size)
    if (f <= 0) return Error(where + ": key 'intermediate_size' entries must be positive");

  c.layer_types.clear();
  if (t.contains("layer_types") && !t["layer_types"].is_null()) {
    const json& lt = t["layer_types"];
    if (!lt.is_array() || static_cast<int>(lt.size()) != L)
      return Error(where + ": key 'layer_types' must be a list of num_hidden_layers entries");
    for (const auto& e : lt) {
      const std::string s = e.is_string() ? e.get<std::string>() : "";
      if (s == "sliding_attention") c.layer_types.push_back(LayerType::Sliding);
      else if (s == "full_attention") c.layer_types.push_back(LayerType::Full);
      else return Error(where + ": key 'layer_types' has unknown entry " + e.dump());
    }
  } else {  // transformers' default: every fifth layer is global
    for (int i = 0; i < L; ++i) c.layer_types.push_back((i + 1) % 5 == 0 ? LayerType::Full : LayerType::Sliding);
  }

  c.activation_sparsity.clear();
  if (t.contains("activation_sparsity_pattern") && !t["activation_sparsity_pattern"].is_null()) {
    const json& sp = t["activation_sparsity_pattern"];
    if (sp.is_number()) {
      c.activation_sparsity.assign(L, sp.get<float>());
    } else if (sp.is_array() && static_cast<int>(sp.size()) == L) {
      for (const auto& e : sp) {
        if (!e.is_number()) return Error(where + ": key 'activation_sparsity_pattern' must hold numbers");
        c.activation_sparsity.push_back(e.get<float>());
      }
    } else {
      return Error(where + ": key 'activation_sparsity_pattern' must be a list of num_hidden_layers numbers");
    }
  } else {
    const int sparse = L > 10 ? 10 : 0;
    for (int i = 0; i < L; ++i) c.activation_sparsity.push_back(i < sparse ? 0.95f : 0.0f);
  }
  for (float s : c.activation_sparsity)
    if (!(s >= 0.0f && s < 1.0f))
      return Error(where + ": key 'activation_sparsity_pattern' values must lie in [0, 1), not " + std::to_string(s));
  return DeriveKvRoles(c, where);
}

Status ParseGeneration(const std::string& text, const json& top, GenerationConfig& g, const std::string& where,
                       const std::string& config_where) {
  // eos_token_id: an id or a list of ids, in config.json (`top`) and/or generation_config.json.
  auto read_eos = [&](const json& j, const std::string& file) -> Status {
    if (!j.contains("eos_token_id") || j["eos_token_id"].is_null()) return Status();
    const json& v = j["eos_token_id"];
    std::vector<int> ids;
    auto add = [&](const json& e) {
      if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > (1ll << 31) - 1) return false;
      ids.push_back(e.get<int>());
      return true;
    };
    bool ok = v.is_array() || add(v);
    if (v.is_array())
      for (const auto& e : v) ok = ok && add(e);
    if (!ok) return Error(file + ": key 'eos_token_id' must be a token id or a list of token ids, not " + v.dump());
    if (!ids.empty()) g.eos_token_ids = ids;
    return Status();
  };
  G3N_RETURN_IF_ERROR(read_eos(top, config_where));
  if (text.empty()) return Status();
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error(where + ": not a valid JSON object");
  Reader r(j, where);
  r.Bool("do_sample", g.do_sample);
  r.Float("temperature", g.temperature);
  r.Int("top_k", g.top_k);
  r.Float("top_p", g.top_p);
  r.Float("min_p", g.min_p);
  r.Float("repetition_penalty", g.repetition_penalty);
  r.Int("bos_token_id", g.bos_token_id);
  r.Int("pad_token_id", g.pad_token_id);
  G3N_RETURN_IF_ERROR(r.status());
  return read_eos(j, where);
}

}  // namespace

Status DeriveKvRoles(TextConfig& c, const std::string& where) {
  const int L = c.num_layers;
  if (c.num_kv_shared_layers >= L) return Error(where + ": num_kv_shared_layers must be below num_hidden_layers");
  c.first_kv_shared = L - c.num_kv_shared_layers;
  c.kv_source.assign(L, 0);
  for (int l = 0; l < L; ++l) {
    c.kv_source[l] = l;
    if (l < c.first_kv_shared) continue;
    int src = -1;
    for (int p = c.first_kv_shared - 1; p >= 0; --p)
      if (c.layer_types[p] == c.layer_types[l]) { src = p; break; }
    if (src < 0)
      return Error(where + ": layer " + std::to_string(l) + " shares KV but no earlier layer of its type owns a cache");
    c.kv_source[l] = src;
  }
  return Status();
}

Result<ModelConfig> ParseModelConfig(const std::string& config_json, const std::string& generation_json,
                                     const std::string& source) {
  ModelConfig mc;
  mc.source = source;
  json top = json::parse(config_json, nullptr, false);
  if (top.is_discarded() || !top.is_object()) return Error(source + ": not a valid JSON object");
  const json* text = &top;
  if (top.contains("text_config")) {
    if (!top["text_config"].is_object()) return Error(source + ": key 'text_config' must be an object");
    text = &top["text_config"];
    mc.multimodal = top.contains("vision_config") || top.contains("audio_config");
  } else {
    std::string top_type;
    G3N_RETURN_IF_ERROR(StringKey(top, "model_type", "", source, top_type));
    if (top_type == "gemma3n") return Error(source + ": model_type 'gemma3n' needs a 'text_config' object");
  }
  std::string mt;
  G3N_RETURN_IF_ERROR(
      StringKey(*text, "model_type", "gemma3n_text", source + (text == &top ? "" : " (text_config)"), mt));
  if (mt != "gemma3n_text") return Error(source + ": text model_type is '" + mt + "', expected 'gemma3n_text'");
  G3N_RETURN_IF_ERROR(ParseText(*text, mc.text, source + (text == &top ? "" : " (text_config)")));
  const std::string gen_where = source.substr(0, source.rfind('/') + 1) + "generation_config.json";
  G3N_RETURN_IF_ERROR(ParseGeneration(generation_json, top, mc.generation, gen_where, source));
  return mc;
}

}  // namespace g3n
