// The extern "C" entry points: argument checks, handle plumbing and the exception firewall.
// Everything else lives in Engine (the model) and Conversation (a session).
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "api/api_status.h"
#include "api/conversation.h"
#include "api/engine.h"
#include "gemma3n.h"
#include "runtime/sampler.h"

struct g3n_model {
  std::unique_ptr<g3n::api::Engine> engine;
};

struct g3n_session {
  g3n_session(const g3n::api::Engine& e, const g3n::TextDecoder& d, uint64_t booked)
      : engine(e), booked_bytes(booked), conversation(e, d) {}
  ~g3n_session() { engine.memory.Release(booked_bytes); }
  const g3n::api::Engine& engine;
  uint64_t booked_bytes;  // its share of engine.memory
  g3n::api::Conversation conversation;
};

namespace {

using g3n::api::ApiError;
using g3n::api::ApiOk;
using g3n::api::ApiStatus;

// Runs `fn` (returning ApiStatus) so that no exception leaves the C API.
template <class Fn>
g3n_status Guard(Fn&& fn) {
  try {
    return g3n::api::Report(fn());
  } catch (const std::bad_alloc&) {
    return g3n::api::Report(ApiError(G3N_ERR_OUT_OF_MEMORY, "out of memory"));
  } catch (const std::exception& e) {
    return g3n::api::Report(ApiError(G3N_ERR_INTERNAL, std::string("internal error: ") + e.what()));
  } catch (...) {
    return g3n::api::Report(ApiError(G3N_ERR_INTERNAL, "internal error: unknown exception"));
  }
}

ApiStatus Null(const char* what) { return ApiError(G3N_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL"); }

template <class T>
ApiStatus CopyOut(const std::vector<T>& v, T* out, size_t capacity, size_t* n_out) {
  *n_out = v.size();
  if (v.size() > capacity)
    return ApiError(G3N_ERR_BUFFER_TOO_SMALL, "the output needs " + std::to_string(v.size()) + " elements, " +
                                                  std::to_string(capacity) + " were given");
  if (!v.empty()) std::memcpy(out, v.data(), v.size() * sizeof(T));
  return ApiOk();
}

}  // namespace

extern "C" {

void g3n_model_options_init(g3n_model_options* o) {
  if (o == nullptr) return;
  *o = g3n_model_options{};
  o->text_only = 0;
}

g3n_status g3n_model_load(const char* path, const g3n_model_options* options, g3n_model** out) {
  return Guard([&]() -> ApiStatus {
    if (out == nullptr) return Null("out");
    *out = nullptr;
    if (path == nullptr) return Null("path");
    g3n_model_options o;
    g3n_model_options_init(&o);
    if (options != nullptr) o = *options;
    auto m = std::make_unique<g3n_model>();
    ApiStatus st = g3n::api::LoadEngine(path, o, &m->engine);
    if (!st.ok()) return st;
    *out = m.release();
    return ApiOk();
  });
}

void g3n_model_free(g3n_model* model) { delete model; }

g3n_status g3n_model_get_info(const g3n_model* model, g3n_model_info* out) {
  return Guard([&]() -> ApiStatus {
    if (model == nullptr) return Null("model");
    if (out == nullptr) return Null("out");
    const g3n::api::Engine& e = *model->engine;
    const g3n::TextConfig& c = e.model->config.text;
    *out = g3n_model_info{};
    out->name = e.name.c_str();
    out->vocab_size = c.vocab_size;
    out->context = e.session.capacity;
    out->max_context = c.max_position_embeddings;
    out->num_layers = c.num_layers;
    out->hidden_size = c.hidden_size;
    out->threads = e.pool->size();
    out->has_tokenizer = e.tokenizer ? 1 : 0;
    out->bos_id = e.model->config.generation.bos_token_id;
    out->eos_ids = e.eos_ids.data();
    out->num_eos_ids = e.eos_ids.size();
    out->sub_model = e.default_sub_model_name.c_str();
    out->default_layers = e.decoder->config().num_layers;
    out->first_media_id = e.media->first_media_id();
    out->has_vision = e.media->has_vision() ? 1 : 0;
    out->has_audio = e.media->has_audio() ? 1 : 0;
    out->memory_booked = e.memory.committed();
    out->memory_limit = e.memory.limit();
    return ApiOk();
  });
}

g3n_status g3n_tokenize(const g3n_model* model, const char* text, size_t text_len, int add_bos, int32_t* ids,
                        size_t capacity, size_t* n_out) {
  return Guard([&]() -> ApiStatus {
    if (model == nullptr) return Null("model");
    if (n_out == nullptr) return Null("n_out");
    if (text == nullptr && text_len > 0) return Null("text");
    ApiStatus st = model->engine->NeedTokenizer();
    if (!st.ok()) return st;
    const std::vector<int32_t> v =
        model->engine->tokenizer->Encode(std::string_view(text == nullptr ? "" : text, text_len), add_bos != 0);
    return CopyOut(v, ids, capacity, n_out);
  });
}

g3n_status g3n_detokenize(const g3n_model* model, const int32_t* ids, size_t n, int skip_special, char* text,
                          size_t capacity, size_t* n_out) {
  return Guard([&]() -> ApiStatus {
    if (model == nullptr) return Null("model");
    if (n_out == nullptr) return Null("n_out");
    if (ids == nullptr && n > 0) return Null("ids");
    ApiStatus st = model->engine->NeedTokenizer();
    if (!st.ok()) return st;
    const std::string s = model->engine->tokenizer->Decode(std::vector<int32_t>(ids, ids + n), skip_special != 0);
    return CopyOut(std::vector<char>(s.begin(), s.end()), text, capacity, n_out);
  });
}

g3n_status g3n_chat_tokenize(const g3n_model* model, const g3n_message* messages, size_t n_messages,
                             int add_generation_prompt, int32_t* ids, size_t capacity, size_t* n_out) {
  return Guard([&]() -> ApiStatus {
    if (model == nullptr) return Null("model");
    if (n_out == nullptr) return Null("n_out");
    if (messages == nullptr && n_messages > 0) return Null("messages");
    ApiStatus st = model->engine->NeedTokenizer();
    if (!st.ok()) return st;
    std::vector<g3n::ChatMessage> msgs;
    for (size_t i = 0; i < n_messages; ++i) {
      if (messages[i].role == nullptr || messages[i].text == nullptr)
        return ApiError(G3N_ERR_INVALID_ARGUMENT, "message " + std::to_string(i) + " has a NULL role or text");
      msgs.push_back(g3n::ChatMessage::Text(messages[i].role, messages[i].text));
    }
    auto v = g3n::EncodeChat(*model->engine->tokenizer, msgs, add_generation_prompt != 0);
    if (!v.ok()) return ApiError(G3N_ERR_INVALID_ARGUMENT, v.status().message());
    return CopyOut(*v, ids, capacity, n_out);
  });
}

g3n_status g3n_session_create(g3n_model* model, g3n_session** out) {
  return g3n_session_create_ex(model, nullptr, out);
}

void g3n_session_options_init(g3n_session_options* options) {
  if (options != nullptr) *options = g3n_session_options{};
}

g3n_status g3n_session_create_ex(g3n_model* model, const g3n_session_options* options, g3n_session** out) {
  return Guard([&]() -> ApiStatus {
    if (out == nullptr) return Null("out");
    *out = nullptr;
    if (model == nullptr) return Null("model");
    const std::string sub = options != nullptr && options->sub_model != nullptr ? options->sub_model : "";
    const g3n::api::Variant* v = nullptr;
    ApiStatus st = model->engine->GetVariant(sub, &v);
    if (!st.ok()) return st;
    uint64_t booked = 0;
    st = model->engine->ReserveSessionMemory(*v, &booked);
    if (!st.ok()) return st;
    *out = new g3n_session(*model->engine, *v->decoder, booked);
    return ApiOk();
  });
}

const char* g3n_model_sub_model_name(const g3n_model* model, size_t index) {
  if (model == nullptr || index >= model->engine->sub_model_names.size()) return nullptr;
  return model->engine->sub_model_names[index].c_str();
}

void g3n_session_free(g3n_session* session) { delete session; }

g3n_status g3n_session_reset(g3n_session* session) {
  return Guard([&]() -> ApiStatus {
    if (session == nullptr) return Null("session");
    session->conversation.Reset();
    return ApiOk();
  });
}

g3n_status g3n_session_add_message(g3n_session* session, const char* role, const char* text) {
  return Guard([&]() -> ApiStatus {
    if (session == nullptr) return Null("session");
    if (role == nullptr) return Null("role");
    if (text == nullptr) return Null("text");
    return session->conversation.AddMessage(role, text);
  });
}

g3n_status g3n_session_add_tokens(g3n_session* session, const int32_t* ids, size_t n) {
  return Guard([&]() -> ApiStatus {
    if (session == nullptr) return Null("session");
    return session->conversation.AddTokens(ids, n);
  });
}

g3n_status g3n_session_add_image(g3n_session* session, const void* data, size_t size) {
  return Guard([&]() -> ApiStatus {
    if (session == nullptr) return Null("session");
    return session->conversation.AddImage(data, size);
  });
}

g3n_status g3n_session_add_audio(g3n_session* session, const void* data, size_t size) {
  return Guard([&]() -> ApiStatus {
    if (session == nullptr) return Null("session");
    return session->conversation.AddAudio(data, size);
  });
}

g3n_status g3n_session_get_tokens(g3n_session* session, int32_t* ids, size_t capacity, size_t* n_out) {
  return Guard([&]() -> ApiStatus {
    if (session == nullptr) return Null("session");
    if (n_out == nullptr) return Null("n_out");
    std::vector<int32_t> v;
    ApiStatus st = session->conversation.Tokens(&v);
    if (!st.ok()) return st;
    return CopyOut(v, ids, capacity, n_out);
  });
}

g3n_status g3n_session_truncate(g3n_session* session, size_t n) {
  return Guard([&]() -> ApiStatus {
    if (session == nullptr) return Null("session");
    return session->conversation.Truncate(n);
  });
}

void g3n_generate_options_init(const g3n_model* model, g3n_generate_options* o) {
  if (o == nullptr) return;
  *o = g3n_generate_options{};
  o->max_new_tokens = 256;
  g3n::SamplingParams p;  // greedy, temperature 1, no filters
  if (model != nullptr) p = g3n::SamplingParams::FromGeneration(model->engine->model->config.generation);
  o->greedy = p.greedy ? 1 : 0;
  o->temperature = p.temperature;
  o->top_k = p.top_k;
  o->top_p = p.top_p;
  o->min_p = p.min_p;
  o->repetition_penalty = p.repetition_penalty;
}

g3n_status g3n_session_generate(g3n_session* session, const g3n_generate_options* options,
                                g3n_token_callback callback, void* user_data, g3n_generate_result* result) {
  return Guard([&]() -> ApiStatus {
    if (session == nullptr) return Null("session");
    if (options == nullptr) return Null("options");
    g3n::api::TokenSink sink;
    if (callback != nullptr) {
      sink = [&](int32_t id, std::string_view text) {
        return callback(user_data, id, text.data(), text.size()) == 0;
      };
    }
    return session->conversation.Generate(*options, sink, result);
  });
}

void g3n_session_cancel(g3n_session* session) {
  if (session != nullptr) session->conversation.Cancel();
}

}  // extern "C"
