/* gemma3n.h: the C API of gemma3n.cpp.
 *
 * Plain C (C99) with opaque handles. Every fallible call returns a g3n_status; on failure
 * g3n_last_error() holds a message naming what went wrong (per thread, valid until the next
 * failing call on that thread). No C++ exception ever crosses this boundary.
 *
 * Threads: a g3n_model may be shared by any number of threads and sessions. Sessions of one
 * model take turns on the model one forward step at a time (first come, first served), so
 * concurrent generations interleave fairly. A g3n_session is used by one thread at a time,
 * except g3n_session_cancel, which any thread may call.
 *
 * A conversation is a sequence of token ids. Text messages are added in the Gemma 3n chat
 * format; raw ids are added as given. g3n_session_generate feeds whatever was added since the
 * last call (the earlier tokens stay in the session's KV cache) and samples a reply.
 *
 *   g3n_model_options mo;  g3n_model_options_init(&mo);
 *   g3n_model* m;          if (g3n_model_load("gemma-3n-E2B-it", &mo, &m)) fail(g3n_last_error());
 *   g3n_session* s;        g3n_session_create(m, &s);
 *   g3n_session_add_message(s, "user", "Why is the sky blue?");
 *   g3n_generate_options go;  g3n_generate_options_init(m, &go);
 *   g3n_session_generate(s, &go, on_token, user_data, NULL);
 *   g3n_session_free(s);   g3n_model_free(m);
 */
#ifndef GEMMA3N_H_
#define GEMMA3N_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define G3N_API_VERSION 2

typedef enum g3n_status {
  G3N_OK = 0,
  G3N_ERR_INVALID_ARGUMENT = 1, /* a null handle, a bad option value, a malformed message */
  G3N_ERR_IO = 2,               /* a file is missing, unreadable or malformed */
  G3N_ERR_UNSUPPORTED = 3,      /* valid, but not implemented yet (images, audio) */
  G3N_ERR_CONTEXT_FULL = 4,     /* the conversation does not fit the session's context */
  G3N_ERR_BUFFER_TOO_SMALL = 5, /* the output buffer was too small; the size needed is reported */
  G3N_ERR_BUSY = 6,             /* the session is already generating on another thread */
  G3N_ERR_NO_TOKENIZER = 7,     /* text needs tokenizer.json beside the weights */
  G3N_ERR_OUT_OF_MEMORY = 8,
  G3N_ERR_INTERNAL = 9          /* a bug: please report the message */
} g3n_status;

/* The message of the last failed call on this thread ("" if none). */
const char* g3n_last_error(void);
/* "G3N_OK", "G3N_ERR_INVALID_ARGUMENT", ... */
const char* g3n_status_name(g3n_status status);

/* ---------------------------------------------------------------------------------------- */
/* Models                                                                                    */

typedef struct g3n_model g3n_model;

typedef struct g3n_model_options {
  int threads;           /* worker threads in total; 0 = one per hardware thread */
  int context;           /* tokens per session; 0 = min(4096, the model's maximum) */
  int prefill_chunk;     /* tokens per prefill step (the largest forward); 0 = 128 */
  int text_only;         /* nonzero: refuse images and audio (their weights are never touched);
                          * zero (default): the towers load when the first image/audio arrives */
  const char* kv_type;   /* KV cache storage: "f32", "f16" (NULL = f16), "bf16", "q8" */
  const char* sub_model; /* MatFormer sub-model sessions run by default: a published name ("E2B",
                          * "E2.98B-layer", ...; see g3n_model_sub_model_name) or a spec file
                          * (CSV/JSON); NULL or "" = the whole model */
  const char* tokenizer; /* a folder with tokenizer.json; NULL = the one beside the weights */
  const char* towers;    /* a Hugging Face checkpoint folder whose vision/audio towers serve a
                          * GGUF text model (what llama.cpp keeps in an mmproj file); NULL = the
                          * model's own folder (a GGUF alone then refuses media) */
  const char* encoder_type; /* tower weights in memory: NULL, "" or "stored" = as in the files
                             * (exact); "Q8_0" or "Q4_0" = re-encoded when the tower first loads
                             * (Q8_0: 0.53x the BF16 bytes; activations are quantized per 32 too) */
  int memory_limit_mb;   /* refuse (G3N_ERR_OUT_OF_MEMORY, before touching the weights) a model,
                          * session or tower whose estimated memory would pass this many MiB;
                          * 0 = only the limits in force (cgroup, ulimit -v, available memory),
                          * which are always checked */
} g3n_model_options;

void g3n_model_options_init(g3n_model_options* options);

/* `path`: a Hugging Face checkpoint folder (config.json, *.safetensors, and tokenizer.json for
 * text) or a .gguf file. `options` may be NULL (defaults). */
g3n_status g3n_model_load(const char* path, const g3n_model_options* options, g3n_model** out);
void g3n_model_free(g3n_model* model); /* after all its sessions are freed; NULL is a no-op */

typedef struct g3n_model_info {
  const char* name;        /* the folder or file name; owned by the model */
  int vocab_size;
  int context;             /* tokens per session */
  int max_context;         /* the model's max_position_embeddings */
  int num_layers;
  int hidden_size;
  int threads;
  int has_tokenizer;       /* text functions work */
  int32_t bos_id;
  const int32_t* eos_ids;  /* the generation config's stop ids; owned by the model */
  size_t num_eos_ids;
  const char* sub_model;   /* the default sub-model's canonical name; "" = the whole model */
  int default_layers;      /* layers the default sub-model runs (num_layers: stored layers) */
  int32_t first_media_id;  /* ids from here on are image/audio tokens (vocab_size if none) */
  int has_vision;          /* the checkpoint has a vision tower (images work unless text-only) */
  int has_audio;
  uint64_t memory_booked;   /* bytes this model holds or has promised (weights, caches, each
                             * session's KV cache at full context, loaded towers), the figure
                             * checked against the memory limits */
  uint64_t memory_limit;    /* the tightest resident limit read at load (UINT64_MAX: none) */
} g3n_model_info;

g3n_status g3n_model_get_info(const g3n_model* model, g3n_model_info* out);

/* The published MatFormer sub-models this model can run (E4B-shaped checkpoints have all 16;
 * others none), by index from 0; NULL past the end. Owned by the model. */
const char* g3n_model_sub_model_name(const g3n_model* model, size_t index);

/* Text -> ids. `add_bos`: prepend <bos>. If `capacity` is too small, nothing is written,
 * *n_out is the count needed and G3N_ERR_BUFFER_TOO_SMALL is returned. Special-token text such
 * as "<start_of_turn>" becomes its id. */
g3n_status g3n_tokenize(const g3n_model* model, const char* text, size_t text_len, int add_bos, int32_t* ids,
                        size_t capacity, size_t* n_out);
/* Ids -> UTF-8 text (not NUL-terminated; *n_out is its length in bytes). */
g3n_status g3n_detokenize(const g3n_model* model, const int32_t* ids, size_t n, int skip_special, char* text,
                          size_t capacity, size_t* n_out);

typedef struct g3n_message {
  const char* role; /* "system" (first message only), "user", "assistant" */
  const char* text; /* UTF-8 */
} g3n_message;

/* The ids of a whole conversation in the chat format, starting with <bos>; with
 * `add_generation_prompt` it ends with the opening of the model's turn. Same buffer rules as
 * g3n_tokenize. */
g3n_status g3n_chat_tokenize(const g3n_model* model, const g3n_message* messages, size_t n_messages,
                             int add_generation_prompt, int32_t* ids, size_t capacity, size_t* n_out);

/* ---------------------------------------------------------------------------------------- */
/* Sessions: one conversation with its own KV cache                                          */

typedef struct g3n_session g3n_session;

g3n_status g3n_session_create(g3n_model* model, g3n_session** out);

typedef struct g3n_session_options {
  const char* sub_model; /* MatFormer sub-model of this session (same forms as in
                          * g3n_model_options); NULL or "" = the model's default. Sessions on
                          * different sub-models share the loaded weights. */
} g3n_session_options;

void g3n_session_options_init(g3n_session_options* options);
/* g3n_session_create with options (NULL = defaults). An unknown or invalid sub-model is
 * G3N_ERR_INVALID_ARGUMENT. */
g3n_status g3n_session_create_ex(g3n_model* model, const g3n_session_options* options, g3n_session** out);
void g3n_session_free(g3n_session* session); /* NULL is a no-op */
/* Forgets the conversation (the KV cache memory is kept for reuse). */
g3n_status g3n_session_reset(g3n_session* session);

/* Appends one chat message. A system message may only open the conversation. Messages are
 * checked here (role order) and tokenized when needed; the next g3n_session_generate opens
 * the model's turn after them. */
g3n_status g3n_session_add_message(g3n_session* session, const char* role, const char* text);
/* Appends ids as they are (no chat formatting; the caller writes <bos> and turn markers). */
g3n_status g3n_session_add_tokens(g3n_session* session, const int32_t* ids, size_t n);
/* Media for the next user message: an image file (JPEG, PNG, WebP, BMP, GIF) or an audio file
 * (WAV, FLAC, MP3, Ogg; any rate and channel count; over 30 s it becomes several 30 s clips),
 * encoded now and placed, in the order added, before the text of the next
 * g3n_session_add_message(s, "user", ...) (the chat template's placeholders). In raw-id mode
 * they fill the next <image_soft_token> / <audio_soft_token> ids added instead. Bad files are
 * G3N_ERR_INVALID_ARGUMENT; a checkpoint without the tower, or a text-only model,
 * G3N_ERR_UNSUPPORTED. */
g3n_status g3n_session_add_image(g3n_session* session, const void* data, size_t size);
g3n_status g3n_session_add_audio(g3n_session* session, const void* data, size_t size);

/* The conversation so far: ids in the KV cache, then ids added but not yet fed. Same buffer
 * rules as g3n_tokenize. Messages added before anything was fed are tokenized here. */
g3n_status g3n_session_get_tokens(g3n_session* session, int32_t* ids, size_t capacity, size_t* n_out);
/* Keeps the first `n` ids of the conversation and drops the rest (n larger than the
 * conversation is an error). The KV cache is rewound when it can be, else the kept ids are fed
 * again by the next generate. Afterwards the session is in raw-token mode: the next generate
 * opens no model turn unless a message is added. This is how a caller reuses a cached prefix. */
g3n_status g3n_session_truncate(g3n_session* session, size_t n);

/* ---------------------------------------------------------------------------------------- */
/* Generation                                                                               */

typedef struct g3n_generate_options {
  int max_new_tokens;       /* default 256 */
  int greedy;               /* nonzero: always the most likely token */
  float temperature;        /* > 0 (0 means greedy) */
  int top_k;                /* 0 = off */
  float top_p;              /* (0, 1]; 1 = off */
  float min_p;              /* [0, 1); 0 = off */
  float repetition_penalty; /* > 0; 1 = off */
  uint64_t seed;
  const int32_t* stop_ids;  /* stop ids besides the model's eos ids (not emitted) */
  size_t num_stop_ids;
  int ignore_eos;           /* nonzero: the model's eos ids do not stop (benchmarks, tests) */
} g3n_generate_options;

/* The model's generation_config.json defaults (model may be NULL: greedy, 256 tokens). */
void g3n_generate_options_init(const g3n_model* model, g3n_generate_options* options);

typedef enum g3n_finish_reason {
  G3N_FINISH_NONE = 0,
  G3N_FINISH_STOP = 1,      /* sampled a stop id */
  G3N_FINISH_LENGTH = 2,    /* max_new_tokens reached */
  G3N_FINISH_CONTEXT = 3,   /* the session's context is full */
  G3N_FINISH_CALLBACK = 4,  /* the token callback returned nonzero */
  G3N_FINISH_CANCELLED = 5  /* g3n_session_cancel */
} g3n_finish_reason;

typedef struct g3n_generate_result {
  int prompt_tokens;     /* ids fed before sampling (the part not already cached) */
  int cached_tokens;     /* ids reused from the KV cache */
  int generated_tokens;
  g3n_finish_reason finish_reason;
  double prefill_seconds;
  double decode_seconds;
} g3n_generate_result;

/* Called once per generated id with the text that became final with it (UTF-8, also
 * NUL-terminated; often empty while a multi-byte character is incomplete; special tokens give
 * no text), and once at the end with id -1 for text still held back, if any. Return nonzero
 * to stop. */
typedef int (*g3n_token_callback)(void* user_data, int32_t id, const char* text, size_t text_len);

/* Feeds the pending part of the conversation and samples until a stop id, max_new_tokens, a
 * full context, the callback or a cancel. The reply stays in the conversation. `callback` and
 * `result` may be NULL. A prompt that does not fit fails with G3N_ERR_CONTEXT_FULL and leaves
 * the conversation as it was. */
g3n_status g3n_session_generate(g3n_session* session, const g3n_generate_options* options,
                                g3n_token_callback callback, void* user_data, g3n_generate_result* result);

/* Asks the g3n_session_generate running now to stop at its next step (between prefill chunks
 * or decode steps); it then returns G3N_OK with G3N_FINISH_CANCELLED. When no generation runs
 * it does nothing, so a late cancel never stops a later generation. Safe from any thread and
 * from the callback. */
void g3n_session_cancel(g3n_session* session);

#ifdef __cplusplus
}
#endif

#endif /* GEMMA3N_H_ */
