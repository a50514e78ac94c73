/* The C API from C: loads the tiny-chat fixture (tests/fixtures/tiny-chat, a random model with a
 * real tokenizer) and exercises every entry point, including errors and two sessions generating
 * at once on two threads. Usage: c_api_test FIXTURES_DIR */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemma3n.h"

static int g_failed = 0, g_passed = 0;

#define CHECK(cond)                                                                              \
  do {                                                                                           \
    if (cond) {                                                                                  \
      ++g_passed;                                                                                \
    } else {                                                                                     \
      ++g_failed;                                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              g3n_last_error());                                                                 \
    }                                                                                            \
  } while (0)

static char g_dir[4096];

static const char* Fixture(const char* name) {
  static char path[4200];
  snprintf(path, sizeof path, "%s/%s", g_dir, name);
  return path;
}

/* Collects ids and text; stops after `stop_after` ids or cancels after `cancel_after` ids. */
typedef struct {
  int32_t ids[512];
  int n;
  char text[8192];
  size_t text_len;
  int stop_after, cancel_after, tail_calls;
  g3n_session* session;
} Collector;

static int OnToken(void* user, int32_t id, const char* text, size_t len) {
  Collector* c = (Collector*)user;
  if (text == NULL || text[len] != '\0') return 1; /* NUL-terminated as promised */
  if (len > 0 && c->text_len + len < sizeof c->text) {
    memcpy(c->text + c->text_len, text, len);
    c->text_len += len;
    c->text[c->text_len] = '\0';
  }
  if (id < 0) {
    ++c->tail_calls;
    return 0;
  }
  if (c->n < 512) c->ids[c->n++] = id;
  if (c->cancel_after > 0 && c->n == c->cancel_after) g3n_session_cancel(c->session);
  return c->stop_after > 0 && c->n >= c->stop_after;
}

static void TestLoadErrors(void) {
  g3n_model* m = (g3n_model*)1;
  CHECK(g3n_model_load(Fixture("no-such-model"), NULL, &m) == G3N_ERR_IO);
  CHECK(m == NULL);
  CHECK(strlen(g3n_last_error()) > 0);
  CHECK(g3n_model_load(NULL, NULL, &m) == G3N_ERR_INVALID_ARGUMENT);
  CHECK(strstr(g3n_last_error(), "path") != NULL);

  g3n_model_options o;
  g3n_model_options_init(&o);
  o.sub_model = "E2B";
  CHECK(g3n_model_load(Fixture("tiny-chat"), &o, &m) == G3N_ERR_INVALID_ARGUMENT); /* not E4B-shaped */
  CHECK(strstr(g3n_last_error(), "35 layers") != NULL);
  g3n_model_options_init(&o);
  o.kv_type = "f12";
  CHECK(g3n_model_load(Fixture("tiny-chat"), &o, &m) == G3N_ERR_INVALID_ARGUMENT);
  g3n_model_options_init(&o);
  o.context = 1 << 20;
  CHECK(g3n_model_load(Fixture("tiny-chat"), &o, &m) == G3N_ERR_INVALID_ARGUMENT);
  CHECK(strcmp(g3n_status_name(G3N_ERR_CONTEXT_FULL), "G3N_ERR_CONTEXT_FULL") == 0);
  g3n_model_free(NULL);
  g3n_session_free(NULL);
}

static void TestTokenizer(g3n_model* m) {
  /* Ids from transformers' GemmaTokenizer on the fixture (tests/server/make_tiny_chat_fixture.py). */
  const int32_t hello[] = {2, 484, 456, 433, 409, 383, 477};
  int32_t ids[64];
  size_t n = 0;
  CHECK(g3n_tokenize(m, "Hello world!", 12, 1, ids, 64, &n) == G3N_OK);
  CHECK(n == 7 && memcmp(ids, hello, sizeof hello) == 0);
  CHECK(g3n_tokenize(m, "Hello world!", 12, 1, ids, 3, &n) == G3N_ERR_BUFFER_TOO_SMALL);
  CHECK(n == 7);
  char text[64];
  CHECK(g3n_detokenize(m, hello + 1, 6, 1, text, sizeof text, &n) == G3N_OK);
  CHECK(n == 12 && memcmp(text, "Hello world!", 12) == 0);

  const g3n_message msgs[] = {{"system", "Be brief."}, {"user", "Hello world!"}, {"assistant", "Hi."},
                              {"user", "How are you?"}};
  const int32_t want[] = {2,   105, 469, 465, 377, 117, 490, 456, 382, 463, 461, 456, 472, 476, 117, 117, 484, 456,
                          433, 409, 383, 477, 106, 117, 105, 468, 457, 430, 117, 484, 461, 476, 106, 117, 105, 469,
                          465, 377, 117, 484, 379, 371, 393, 414, 475, 106, 117, 105, 468, 457, 430, 117};
  int32_t chat[128];
  CHECK(g3n_chat_tokenize(m, msgs, 4, 1, chat, 128, &n) == G3N_OK);
  CHECK(n == sizeof want / sizeof want[0] && memcmp(chat, want, sizeof want) == 0);
  const g3n_message bad[] = {{"user", "a"}, {"user", "b"}};
  CHECK(g3n_chat_tokenize(m, bad, 2, 1, chat, 128, &n) == G3N_ERR_INVALID_ARGUMENT);
  CHECK(strstr(g3n_last_error(), "alternate") != NULL);
}

static void TestChat(g3n_model* m) {
  g3n_session* s = NULL;
  /* Sub-model choices per session: tiny-chat is not E4B-shaped, so it has none. */
  g3n_session_options so;
  g3n_session_options_init(&so);
  CHECK(so.sub_model == NULL);
  CHECK(g3n_model_sub_model_name(m, 0) == NULL);
  so.sub_model = "E2B";
  CHECK(g3n_session_create_ex(m, &so, &s) == G3N_ERR_INVALID_ARGUMENT && s == NULL);
  so.sub_model = "";
  CHECK(g3n_session_create_ex(m, &so, &s) == G3N_OK);
  g3n_session_free(s);
  s = NULL;
  CHECK(g3n_session_create(m, &s) == G3N_OK);
  CHECK(g3n_session_add_message(s, "system", "Be brief.") == G3N_OK);
  CHECK(g3n_session_add_message(s, "system", "Twice?") == G3N_ERR_INVALID_ARGUMENT);
  CHECK(g3n_session_add_message(s, "user", "Hello world!") == G3N_OK);
  CHECK(g3n_session_add_message(s, "user", "Again?") == G3N_ERR_INVALID_ARGUMENT);
  CHECK(g3n_session_add_image(s, "x", 1) == G3N_ERR_UNSUPPORTED); /* tiny-chat has no vision tower */
  CHECK(strstr(g3n_last_error(), "no vision tower") != NULL);
  CHECK(g3n_session_add_audio(s, "x", 1) == G3N_ERR_UNSUPPORTED);

  g3n_generate_options go;
  g3n_generate_options_init(m, &go);
  CHECK(go.greedy == 0 && go.top_k == 64); /* the fixture's generation_config.json samples */
  go.max_new_tokens = 12;
  go.seed = 7;
  Collector c;
  memset(&c, 0, sizeof c);
  g3n_generate_result r;
  CHECK(g3n_session_generate(s, &go, OnToken, &c, &r) == G3N_OK);
  CHECK(r.cached_tokens == 0);
  CHECK(r.prompt_tokens == 22 + 7); /* system + first user turn, then "<start_of_turn>model\n" */
  CHECK(r.generated_tokens == c.n);
  CHECK(r.finish_reason == G3N_FINISH_STOP || r.finish_reason == G3N_FINISH_LENGTH);
  CHECK(c.n > 0 || r.finish_reason == G3N_FINISH_STOP);

  /* The conversation: the rendered prompt, then the reply. */
  int32_t toks[256];
  size_t n = 0;
  CHECK(g3n_session_get_tokens(s, toks, 256, &n) == G3N_OK);
  CHECK(n == (size_t)(r.prompt_tokens + r.generated_tokens));
  CHECK(toks[0] == 2 && toks[1] == 105 && toks[r.prompt_tokens - 1] == 117);
  CHECK(memcmp(toks + r.prompt_tokens, c.ids, sizeof(int32_t) * (size_t)c.n) == 0);

  /* The same conversation in a fresh session with the same seed gives the same reply. */
  g3n_session* s2 = NULL;
  CHECK(g3n_session_create(m, &s2) == G3N_OK);
  CHECK(g3n_session_add_tokens(s2, toks, (size_t)r.prompt_tokens) == G3N_OK);
  Collector c2;
  memset(&c2, 0, sizeof c2);
  CHECK(g3n_session_generate(s2, &go, OnToken, &c2, NULL) == G3N_OK);
  CHECK(c2.n == c.n && memcmp(c2.ids, c.ids, sizeof(int32_t) * (size_t)c.n) == 0);

  /* The next turn prefills only itself: the earlier ids stay cached. */
  CHECK(g3n_session_add_message(s, "user", "How are you?") == G3N_OK);
  memset(&c, 0, sizeof c);
  CHECK(g3n_session_generate(s, &go, OnToken, &c, &r) == G3N_OK);
  CHECK(r.cached_tokens >= 29 && r.prompt_tokens < 29);

  /* Truncate back to the first prompt and regenerate: the same ids as the first time (the
   * last prompt id now runs as a one-token step, whose logits match the prefill's to ~1e-5). */
  CHECK(g3n_session_truncate(s, 100000) == G3N_ERR_INVALID_ARGUMENT);
  CHECK(g3n_session_truncate(s, 29) == G3N_OK);
  memset(&c, 0, sizeof c);
  CHECK(g3n_session_generate(s, &go, OnToken, &c, &r) == G3N_OK);
  CHECK(c.n == c2.n && memcmp(c2.ids, c.ids, sizeof(int32_t) * (size_t)c.n) == 0);
  CHECK(r.cached_tokens == 28 && r.prompt_tokens == 1); /* the last prompt id is fed again */

  /* A callback that says stop, and a cancel from inside the callback. */
  go.max_new_tokens = 50;
  go.stop_ids = NULL;
  CHECK(g3n_session_reset(s) == G3N_OK);
  CHECK(g3n_session_add_tokens(s, toks, (size_t)r.cached_tokens + 1) == G3N_OK);
  memset(&c, 0, sizeof c);
  c.stop_after = 2;
  /* (A random model may sample a stop id first: then there is nothing to stop.) */
  CHECK(g3n_session_generate(s, &go, OnToken, &c, &r) == G3N_OK);
  CHECK(r.finish_reason == G3N_FINISH_CALLBACK || r.finish_reason == G3N_FINISH_STOP);
  if (r.finish_reason == G3N_FINISH_CALLBACK) CHECK(c.n == 2);
  memset(&c, 0, sizeof c);
  c.cancel_after = 1;
  c.session = s;
  CHECK(g3n_session_generate(s, &go, OnToken, &c, &r) == G3N_OK);
  CHECK(r.finish_reason == G3N_FINISH_CANCELLED || r.finish_reason == G3N_FINISH_STOP);
  if (r.finish_reason == G3N_FINISH_CANCELLED) CHECK(c.n == 1);
  /* A cancel while nothing runs is dropped: it does not stop the next generation. */
  g3n_session_cancel(s);
  memset(&c, 0, sizeof c);
  c.stop_after = 1;
  CHECK(g3n_session_generate(s, &go, OnToken, &c, &r) == G3N_OK);
  CHECK(r.finish_reason != G3N_FINISH_CANCELLED);

  /* Bad arguments. */
  const int32_t oov[] = {5, 100000};
  CHECK(g3n_session_add_tokens(s, oov, 2) == G3N_ERR_INVALID_ARGUMENT);
  CHECK(strstr(g3n_last_error(), "100000") != NULL);
  go.top_p = 0.0f;
  CHECK(g3n_session_generate(s, &go, NULL, NULL, NULL) == G3N_ERR_INVALID_ARGUMENT);
  CHECK(g3n_session_generate(NULL, &go, NULL, NULL, NULL) == G3N_ERR_INVALID_ARGUMENT);
  CHECK(g3n_session_reset(s) == G3N_OK);
  g3n_generate_options_init(m, &go);
  CHECK(g3n_session_generate(s, &go, NULL, NULL, NULL) == G3N_ERR_INVALID_ARGUMENT); /* empty */
  g3n_session_free(s2);
  g3n_session_free(s);
}

static void TestContextFull(void) {
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.context = 16;
  o.threads = 1;
  g3n_model* m = NULL;
  CHECK(g3n_model_load(Fixture("tiny-chat"), &o, &m) == G3N_OK);
  g3n_model_info info;
  CHECK(g3n_model_get_info(m, &info) == G3N_OK);
  CHECK(info.context == 16 && info.vocab_size == 512 && info.has_tokenizer == 1);
  CHECK(info.num_eos_ids == 2 && info.eos_ids[0] == 1 && info.eos_ids[1] == 106);
  CHECK(strcmp(info.name, "tiny-chat") == 0);
  g3n_session* s = NULL;
  CHECK(g3n_session_create(m, &s) == G3N_OK);
  CHECK(g3n_session_add_message(s, "user", "the a an of to in is it you that he was for on are with") == G3N_OK);
  g3n_generate_options go;
  g3n_generate_options_init(m, &go);
  CHECK(g3n_session_generate(s, &go, NULL, NULL, NULL) == G3N_ERR_CONTEXT_FULL);
  /* A prompt that fits but leaves little room stops at the context's end. */
  const int32_t ten[] = {2, 105, 484, 456, 433, 409, 383, 477, 106, 117};
  CHECK(g3n_session_reset(s) == G3N_OK);
  CHECK(g3n_session_add_tokens(s, ten, 10) == G3N_OK);
  go.greedy = 1;
  go.max_new_tokens = 100;
  go.stop_ids = NULL;
  g3n_generate_result r;
  CHECK(g3n_session_generate(s, &go, NULL, NULL, &r) == G3N_OK);
  CHECK(r.finish_reason == G3N_FINISH_CONTEXT || r.finish_reason == G3N_FINISH_STOP);
  CHECK(r.generated_tokens <= 7);
  g3n_session_free(s);
  g3n_model_free(m);
}

static void TestNoTokenizer(void) {
  g3n_model* m = NULL;
  CHECK(g3n_model_load(Fixture("tiny-nested"), NULL, &m) == G3N_OK);
  g3n_session* s = NULL;
  CHECK(g3n_session_create(m, &s) == G3N_OK);
  CHECK(g3n_session_add_message(s, "user", "hi") == G3N_ERR_NO_TOKENIZER);
  int32_t ids[4];
  size_t n = 0;
  CHECK(g3n_tokenize(m, "hi", 2, 1, ids, 4, &n) == G3N_ERR_NO_TOKENIZER);
  const int32_t prompt[] = {2, 105, 17, 42, 99, 7, 106};
  CHECK(g3n_session_add_tokens(s, prompt, 7) == G3N_OK);
  g3n_generate_options go;
  g3n_generate_options_init(m, &go);
  go.max_new_tokens = 5;
  go.greedy = 1;
  Collector c;
  memset(&c, 0, sizeof c);
  g3n_generate_result r;
  CHECK(g3n_session_generate(s, &go, OnToken, &c, &r) == G3N_OK);
  CHECK(r.generated_tokens == c.n && c.text_len == 0); /* ids only, no text */
  g3n_session_free(s);
  g3n_model_free(m);
}

/* Two sessions generating at once on two threads give the ids each gives alone. */
typedef struct {
  g3n_model* model;
  int32_t prompt[8];
  uint64_t seed;
  Collector out;
  g3n_status status;
} Job;

static void* RunJob(void* arg) {
  Job* j = (Job*)arg;
  g3n_session* s = NULL;
  j->status = g3n_session_create(j->model, &s);
  if (j->status != G3N_OK) return NULL;
  g3n_session_add_tokens(s, j->prompt, 8);
  g3n_generate_options go;
  g3n_generate_options_init(j->model, &go);
  go.max_new_tokens = 40;
  go.seed = j->seed;
  go.temperature = 1.5f; /* flatter: long answers */
  memset(&j->out, 0, sizeof j->out);
  j->status = g3n_session_generate(s, &go, OnToken, &j->out, NULL);
  g3n_session_free(s);
  return NULL;
}

static void TestConcurrent(g3n_model* m) {
  Job jobs[2];
  for (int k = 0; k < 2; ++k) {
    const int32_t p[8] = {2, 105, 484, 456, 433, 409, 383, 117};
    memcpy(jobs[k].prompt, p, sizeof p);
    jobs[k].prompt[2 + k] = 400 + k;
    jobs[k].model = m;
    jobs[k].seed = 11 + (uint64_t)k;
  }
  Collector alone[2];
  for (int k = 0; k < 2; ++k) {
    RunJob(&jobs[k]);
    CHECK(jobs[k].status == G3N_OK);
    alone[k] = jobs[k].out;
  }
  pthread_t t[2];
  for (int k = 0; k < 2; ++k) pthread_create(&t[k], NULL, RunJob, &jobs[k]);
  for (int k = 0; k < 2; ++k) pthread_join(t[k], NULL);
  for (int k = 0; k < 2; ++k) {
    CHECK(jobs[k].status == G3N_OK);
    CHECK(jobs[k].out.n == alone[k].n && memcmp(jobs[k].out.ids, alone[k].ids, sizeof(int32_t) * alone[k].n) == 0);
  }
}

int main(int argc, char** argv) {
  snprintf(g_dir, sizeof g_dir, "%s", argc > 1 ? argv[1] : "tests/fixtures");
  TestLoadErrors();
  g3n_model_options o;
  g3n_model_options_init(&o);
  o.threads = 2;
  o.context = 512;
  g3n_model* m = NULL;
  CHECK(g3n_model_load(Fixture("tiny-chat"), &o, &m) == G3N_OK);
  if (m == NULL) {
    fprintf(stderr, "cannot load the fixture: %s\n", g3n_last_error());
    return 1;
  }
  TestTokenizer(m);
  TestChat(m);
  TestConcurrent(m);
  g3n_model_free(m);
  TestContextFull();
  TestNoTokenizer();
  printf("c_api_test: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
