// The server without Python: the HTTP parser, stop strings, the request parser and the KV
// rewind in isolation, then a whole server started in-process on a free loopback port with
// the tiny-chat fixture, spoken to in raw HTTP: endpoints, streaming, errors, limits, the
// queue, disconnects, the prefix cache, and ids equal to runtime/generate.h's (the CLI's path).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/kv_rewind.h"
#include "gemma3n.h"
#include "io/safetensors.h"
#include "kernels/thread_pool.h"
#include "model/model.h"
#include "model/text_decoder.h"
#include "runtime/generate.h"
#include "server/base64.h"
#include "server/http_parse.h"
#include "server/openai_request.h"
#include "server/server.h"
#include "server/stop_strings.h"
#include "media_test_util.h"
#include "test_util.h"

namespace g3n::server {
namespace {

using json = nlohmann::json;
using g3n::testing::FixtureDir;

// ---------------------------------------------------------------------------------------------
// Units

TEST(HttpParse, RequestHead) {
  HttpRequest r;
  const std::string head = "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \r\n\r\n";
  ASSERT_EQ(FindHeadEnd(head + "body"), head.size());
  ASSERT_FALSE(ParseHead(head, &r));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v1/chat/completions");
  EXPECT_EQ(r.Header("content-length"), "12");
  EXPECT_EQ(RequestBodyLength(r).length, 12u);
  EXPECT_TRUE(WantsKeepAlive(r));

  HttpRequest bad;
  EXPECT_EQ(ParseHead("GET  / HTTP/1.1\r\n\r\n", &bad)->status, 400);
  EXPECT_EQ(ParseHead("GET / HTTP/2.0\r\n\r\n", &bad)->status, 505);
  EXPECT_EQ(ParseHead("GET / HTTP/1.1\r\nNo colon\r\n\r\n", &bad)->status, 400);
  HttpRequest te;
  ASSERT_FALSE(ParseHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &te));
  EXPECT_EQ(RequestBodyLength(te).error->status, 501);
  HttpRequest cl;
  ASSERT_FALSE(ParseHead("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", &cl));
  EXPECT_EQ(RequestBodyLength(cl).error->status, 400);
  HttpRequest close;
  ASSERT_FALSE(ParseHead("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", &close));
  EXPECT_FALSE(WantsKeepAlive(close));
}

TEST(StopStrings, HoldsBackPrefixesAndCutsAtMatch) {
  StopMatcher m({"STOP", "\n\n"});
  EXPECT_EQ(m.Push("hello S"), "hello ");
  EXPECT_EQ(m.Push("T"), "");
  EXPECT_EQ(m.Push("x"), "STx");
  EXPECT_EQ(m.Push(" a\n"), " a");
  EXPECT_EQ(m.Push("\nrest"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.Push("more"), "");
  StopMatcher tail({"end"});
  EXPECT_EQ(tail.Push("the en"), "the ");
  EXPECT_EQ(tail.Flush(), "en");
}

TEST(OpenAiRequest, ValidatesTypesAndRanges) {
  CompletionRequest r;
  ASSERT_FALSE(ParseChatRequest(R"({"model":"m","messages":[{"role":"system","content":"s"},
      {"role":"user","content":[{"type":"text","text":" a "},{"type":"text","text":"b"}]}],
      "temperature":0.5,"max_tokens":7,"stop":"x","seed":-3,"stream":true,"return_token_ids":true})", &r));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].text, "ab");  // each text part trimmed, as the chat template does
  EXPECT_EQ(*r.max_tokens, 7);
  EXPECT_EQ(r.stop, std::vector<std::string>{"x"});
  EXPECT_TRUE(r.stream && r.return_token_ids);

  auto err = [](const char* body) {
    CompletionRequest q;
    auto e = ParseChatRequest(body, &q);
    return e ? *e : ApiError{0, "", "", "", ""};
  };
  EXPECT_EQ(err("{not json").status, 400);
  EXPECT_EQ(err("[1,2]").status, 400);
  EXPECT_EQ(err(R"({"messages":"hi"})").param, "messages");
  EXPECT_EQ(err(R"({"messages":[]})").param, "messages");
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})").param, "temperature");
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"x"}],"temperature":3})").param, "temperature");
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1.5})").param, "max_tokens");
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"x"}],"n":2})").param, "n");
  EXPECT_EQ(err(R"({"messages":[{"role":"wizard","content":"x"}]})").param, "messages[0].role");
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:"}}]}]})").param,
            "messages[0].content[0].image_url.url");
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})").code,
            "unsupported_content");
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"@@"}}]}]})").param,
            "messages[0].content[0].input_audio.data");
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})").param,
            "response_format");
  std::string deep(100, '[');
  EXPECT_NE(err(deep.c_str()).message.find("nests deeper"), std::string::npos);

  CompletionRequest c;
  ASSERT_FALSE(ParseCompletionRequest(R"({"prompt":[[2,105,7]]})", &c));
  EXPECT_TRUE(c.prompt_is_ids);
  EXPECT_EQ(c.prompt_ids, (std::vector<int32_t>{2, 105, 7}));
  EXPECT_TRUE(ParseCompletionRequest(R"({"prompt":["a","b"]})", &c));
  EXPECT_TRUE(ParseCompletionRequest(R"({"prompt":[1,-2]})", &c));
}

// Rewinding the KV cache over rows written with other ids, then feeding the right id, gives the
// logits of a session that never saw the other ids.
TEST(KvRewind, RewoundSessionMatchesFreshOne) {
  auto model = LoadModel(FixtureDir("tiny-chat"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  ThreadPool pool(2);
  TextDecoder dec((*model)->config.text, (*model)->weights, &pool);
  const int window = dec.config().sliding_window;  // 32
  const SessionOptions so{200, 8, KvType::F16};   // chunks of 8: sliding rings of 32 + 8 - 1 slots
  std::vector<int32_t> ids(100);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(5 + (i * 37) % 500);
  const int vocab = dec.config().vocab_size;
  std::vector<float> want(vocab), got(vocab);

  Session fresh = dec.NewSession(so);
  ASSERT_TRUE(Prefill(dec, fresh, ids, 8, &want).ok());

  Session s = dec.NewSession(so);
  std::vector<int32_t> other(ids.begin(), ids.begin() + 99);
  for (int i = 0; i < 5; ++i) other.push_back(400 + i);  // positions 99..103 hold other ids
  ASSERT_TRUE(Prefill(dec, s, other, 8, nullptr).ok());
  EXPECT_FALSE(api::CanRewind(s, window, 90));  // 14 back: the ring lost keys position 90 needs
  ASSERT_TRUE(api::CanRewind(s, window, 99));   // 5 back
  s.pos = 99;
  ASSERT_TRUE(Prefill(dec, s, std::vector<int32_t>{ids[99]}, 8, &got).ok());
  // A one-token step against a chunked prefill: equal up to float reassociation.
  EXPECT_LE(g3n::testing::MaxAbsDiff(want.data(), got.data(), vocab), 1e-3f);
  EXPECT_EQ(g3n::testing::Argmax(want.data(), vocab), g3n::testing::Argmax(got.data(), vocab));
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP client

struct HttpReply {
  int status = 0;
  std::string head, body;  // body de-chunked
  json Json() const { return json::parse(body, nullptr, false); }
  // The JSON payloads of "data: ..." events, "[DONE]" as the string "[DONE]".
  std::vector<json> Events() const {
    std::vector<json> out;
    size_t at = 0;
    while ((at = body.find("data: ", at)) != std::string::npos) {
      const size_t end = body.find("\n\n", at);
      const std::string data = body.substr(at + 6, end - at - 6);
      out.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data, nullptr, false));
      at = end;
    }
    return out;
  }
};

std::chrono::steady_clock::time_point Deadline(double seconds) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

class Conn {
 public:
  explicit Conn(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Conn() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool ok() const { return ok_; }
  bool Send(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until `what` appears in the raw stream (or EOF / timeout).
  bool ReadUntil(const std::string& what, double timeout_s = 20) {
    const auto end = Deadline(timeout_s);
    while (raw_.find(what) == std::string::npos) {
      if (!ReadSome(end)) return false;
    }
    return true;
  }
  // One response (Content-Length or chunked).
  HttpReply Read(double timeout_s = 60) {
    HttpReply r;
    const auto end = Deadline(timeout_s);
    size_t head_end;
    while ((head_end = raw_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadSome(end)) return r;
    }
    r.head = raw_.substr(0, head_end + 4);
    r.status = std::atoi(r.head.c_str() + 9);
    raw_.erase(0, head_end + 4);
    if (r.status < 200) return r;  // an interim answer has no body
    std::string lower = r.head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t cl = lower.find("content-length:");
    if (cl != std::string::npos) {
      const size_t len = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
      while (raw_.size() < len) {
        if (!ReadSome(end)) break;
      }
      r.body = raw_.substr(0, len);
      raw_.erase(0, std::min(len, raw_.size()));
      return r;
    }
    while (true) {  // chunked
      size_t eol;
      while ((eol = raw_.find("\r\n")) == std::string::npos) {
        if (!ReadSome(end)) return r;
      }
      const size_t n = std::strtoul(raw_.c_str(), nullptr, 16);
      while (raw_.size() < eol + 2 + n + 2) {
        if (!ReadSome(end)) return r;
      }
      r.body += raw_.substr(eol + 2, n);
      raw_.erase(0, eol + 2 + n + 2);
      if (n == 0) return r;
    }
  }
  const std::string& raw() const { return raw_; }

 private:
  bool ReadSome(std::chrono::steady_clock::time_point end) {
    const int ms = static_cast<int>(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count()));
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    raw_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool ok_ = false;
  std::string raw_;
};

std::string Post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

HttpReply Call(int port, const std::string& request) {
  Conn c(port);
  EXPECT_TRUE(c.ok());
  c.Send(request);
  return c.Read();
}

HttpReply Get(int port, const std::string& path) {
  return Call(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

// A fixture loaded through the C API for a server run in-process (2 threads).
g3n_model* LoadFixture(const std::string& name, int context = 0, const char* kv_type = nullptr) {
  g3n_model_options mo;
  g3n_model_options_init(&mo);
  mo.threads = 2;
  mo.context = context;
  mo.kv_type = kv_type;
  g3n_model* model = nullptr;
  EXPECT_EQ(g3n_model_load(FixtureDir(name).c_str(), &mo, &model), G3N_OK) << g3n_last_error();
  return model;
}

// Loopback, a free port, no request log.
ServerOptions LoopbackOptions() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.log_requests = false;
  return o;
}

// ---------------------------------------------------------------------------------------------
// A live server

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = LoadFixture("tiny-chat", 2048);
    ASSERT_NE(model_, nullptr);
  }
  static void TearDownTestSuite() {
    g3n_model_free(model_);
    model_ = nullptr;
  }

  void StartServer(int max_concurrent = 4, int queue = 8, double read_timeout_s = 30) {
    ServerOptions o = LoopbackOptions();
    o.limits.max_concurrent = max_concurrent;
    o.limits.queue = queue;
    o.limits.max_tokens = 2000;
    o.http.max_body_bytes = 1 << 20;
    o.http.read_timeout_s = read_timeout_s;
    server_ = std::make_unique<Server>(model_, o);
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  json Health() { return Get(port_, "/health").Json(); }
  // Waits until /health reports no running or queued request.
  bool WaitIdle(double timeout_s = 10) {
    const auto end = Deadline(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
      const json h = Health();
      if (h["active"] == 0 && h["queued"] == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  static g3n_model* model_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

g3n_model* ServerTest::model_ = nullptr;

const char* kChat = R"({"model":"tiny-chat","messages":[{"role":"user","content":"Hello world!"}],
                        "max_tokens":16,"seed":3})";

TEST_F(ServerTest, ModelsHealthPageAndUnknownPaths) {
  StartServer();
  HttpReply r = Get(port_, "/v1/models");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["data"][0]["id"], "tiny-chat");
  EXPECT_EQ(Get(port_, "/v1/models/tiny-chat").Json()["object"], "model");
  EXPECT_EQ(Get(port_, "/v1/models/gpt-9").status, 404);
  EXPECT_EQ(Health()["status"], "ok");
  r = Get(port_, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("/chat.js"), std::string::npos);
  EXPECT_NE(Get(port_, "/chat.js").body.find("/v1/chat/completions"), std::string::npos);
  r = Get(port_, "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.Json()["error"]["message"].is_string());
  r = Get(port_, "/v1/chat/completions");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.head.find("Allow: POST"), std::string::npos);
}

TEST_F(ServerTest, ChatCompletionAndKeepAlive) {
  StartServer();
  Conn c(port_);
  c.Send(Post("/v1/chat/completions", kChat));
  HttpReply r = c.Read();
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.Json();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  const std::string finish = j["choices"][0]["finish_reason"];
  EXPECT_TRUE(finish == "stop" || finish == "length");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 19);  // <bos><start_of_turn>user\nHello world!<end_of_turn>\n...model\n
  EXPECT_LE(j["usage"]["completion_tokens"].get<int>(), 16);
  // The same connection serves the next request; the same seed gives the same answer.
  c.Send(Post("/v1/chat/completions", kChat));
  HttpReply again = c.Read();
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["choices"][0]["message"]["content"], j["choices"][0]["message"]["content"]);
  EXPECT_GT(again.Json()["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
}

// Streamed ids equal runtime/generate.h's Generate (what `gemma3n run` calls) for the seed.
TEST_F(ServerTest, StreamedIdsEqualGenerate) {
  StartServer();
  const std::vector<int32_t> prompt{2, 105, 484, 456, 433, 409, 383, 477, 106, 117, 105, 468, 457, 430, 117};
  json body = {{"prompt", prompt},   {"max_tokens", 40},          {"temperature", 0.8}, {"top_p", 0.95},
               {"seed", 1234},       {"return_token_ids", true},  {"stream", true},     {"ignore_eos", false}};
  HttpReply r = Call(port_, Post("/v1/completions", body.dump()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.head.find("text/event-stream"), std::string::npos);
  std::vector<int32_t> streamed;
  std::string text;
  const std::vector<json> events = r.Events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  for (const json& e : events) {
    if (e == "[DONE]") continue;
    EXPECT_EQ(e["object"], "text_completion");
    for (int id : e["choices"][0]["token_ids"]) streamed.push_back(id);
    text += e["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(events[0]["choices"][0]["prompt_token_ids"].get<std::vector<int32_t>>(), prompt);

  auto model = LoadModel(FixtureDir("tiny-chat"));
  ASSERT_TRUE(model.ok());
  ThreadPool pool(2);
  TextDecoder dec((*model)->config.text, (*model)->weights, &pool);
  Session s = dec.NewSession(SessionOptions{2048, 512, KvType::F16});
  GenerateOptions go;
  go.max_new_tokens = 40;
  go.sampling = SamplingParams::FromGeneration((*model)->config.generation);
  go.sampling.greedy = false;
  go.sampling.temperature = 0.8f;
  go.sampling.top_p = 0.95f;
  go.sampling.seed = 1234;
  go.stop_ids = (*model)->config.generation.eos_token_ids;
  std::vector<int32_t> want;
  ASSERT_TRUE(Generate(dec, s, prompt, go, nullptr, &want, nullptr).ok());
  EXPECT_EQ(streamed, want);
  // And the text is the ids' decoding.
  std::vector<char> buf(4096);
  size_t n = 0;
  ASSERT_EQ(g3n_detokenize(model_, want.data(), want.size(), 1, buf.data(), buf.size(), &n), G3N_OK);
  EXPECT_EQ(text, std::string(buf.data(), n));
}

TEST_F(ServerTest, ChatStreamingChunks) {
  StartServer();
  json body = json::parse(kChat);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  HttpReply r = Call(port_, Post("/v1/chat/completions", body.dump()));
  ASSERT_EQ(r.status, 200);
  const std::vector<json> ev = r.Events();
  ASSERT_GE(ev.size(), 4u);  // role, ..., finish, usage, [DONE]
  EXPECT_EQ(ev[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(ev[0]["choices"][0]["delta"]["role"], "assistant");
  const json& fin = ev[ev.size() - 3];
  EXPECT_TRUE(fin["choices"][0]["finish_reason"].is_string());
  EXPECT_TRUE(fin["timings"]["predicted_per_second"].is_number());
  EXPECT_TRUE(ev[ev.size() - 2]["usage"]["total_tokens"].is_number());
  EXPECT_EQ(ev.back(), "[DONE]");
}

TEST_F(ServerTest, BadRequestsGetClearErrorsAndServerStaysUp) {
  StartServer(4, 8, /*read_timeout_s=*/0.5);
  auto expect_error = [&](const HttpReply& r, int status, const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.head << r.body;
    const json j = r.Json();
    ASSERT_TRUE(j.is_object()) << r.body;
    const std::string msg = j["error"]["message"];
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  };
  expect_error(Call(port_, Post("/v1/chat/completions", "{\"messages\": [")), 400, "not valid JSON");
  expect_error(Call(port_, Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":5}]})")), 400,
               "content");
  expect_error(Call(port_, Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"top_p":"a"})")),
               400, "top_p");
  expect_error(Call(port_, Post("/v1/chat/completions",
                                R"({"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]})")),
               400, "needs 'input_audio'");
  // tiny-chat has no towers: valid media get a clear 400 from the model.
  expect_error(Call(port_, Post("/v1/chat/completions",
                                R"({"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},{"type":"text","text":"hi"}]}]})")),
               400, "no audio tower");
  expect_error(Call(port_, Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"a"},
                                                                        {"role":"user","content":"b"}]})")),
               400, "alternate");
  expect_error(Call(port_, Post("/v1/completions", R"({"prompt":[2,999999]})")), 400, "vocabulary");
  // Too long a prompt: more ids than the context holds.
  json big = {{"prompt", std::vector<int>(2100, 7)}};
  HttpReply r = Call(port_, Post("/v1/completions", big.dump()));
  expect_error(r, 400, "maximum context length");
  EXPECT_EQ(r.Json()["error"]["code"], "context_length_exceeded");
  // A body over the limit is refused from its Content-Length, and the answer still arrives.
  const std::string huge(2 << 20, 'x');
  expect_error(Call(port_, Post("/v1/chat/completions", huge)), 413, "exceeds the limit");
  expect_error(Call(port_, "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"), 431, "head");
  expect_error(Call(port_, "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 501,
               "Content-Length");
  // A client that sends half a request and stalls gets 408 after the read timeout.
  {
    Conn slow(port_);
    slow.Send("POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"pro");
    expect_error(slow.Read(5), 408, "not received in time");
  }
  // Expect: 100-continue gets its interim answer, then the real one.
  {
    Conn c(port_);
    const std::string body = R"({"prompt":[2,105],"max_tokens":2})";
    c.Send("POST /v1/completions HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n");
    ASSERT_TRUE(c.ReadUntil("100 Continue\r\n\r\n"));
    EXPECT_EQ(c.Read().status, 100);
    c.Send(body);
    EXPECT_EQ(c.Read().status, 200);
  }
  EXPECT_EQ(Call(port_, Post("/v1/chat/completions", kChat)).status, 200);
  EXPECT_TRUE(WaitIdle());
}

// With one slot and no queue, a second request gets 503 while the first streams; closing the
// first connection cancels its generation at once.
TEST_F(ServerTest, QueueFullThen503AndDisconnectCancels) {
  StartServer(/*max_concurrent=*/1, /*queue=*/0);
  const json long_body = {{"prompt", {2, 105, 7}}, {"max_tokens", 2000}, {"ignore_eos", true}, {"stream", true}};
  auto first = std::make_unique<Conn>(port_);
  first->Send(Post("/v1/completions", long_body.dump()));
  ASSERT_TRUE(first->ReadUntil("data: "));  // admitted and generating
  HttpReply busy = Call(port_, Post("/v1/chat/completions", kChat));
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.Json()["error"]["code"], "server_busy");
  EXPECT_NE(busy.head.find("Retry-After"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  first.reset();  // the client goes away
  EXPECT_TRUE(WaitIdle(5));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_EQ(Health()["cancelled"], 1);
  EXPECT_EQ(Call(port_, Post("/v1/chat/completions", kChat)).status, 200);
}

// A queued request waits its turn and is served; so are several at once, each with its ids.
TEST_F(ServerTest, ConcurrentRequestsGiveTheirOwnAnswers) {
  StartServer(/*max_concurrent=*/2, /*queue=*/8);
  auto body = [](int seed) {
    return json{{"prompt", {2, 105, 484, 456, 117}}, {"max_tokens", 24}, {"seed", seed},
                {"ignore_eos", true},                {"return_token_ids", true}}
        .dump();
  };
  std::vector<json> alone;
  for (int k = 0; k < 5; ++k) alone.push_back(Call(port_, Post("/v1/completions", body(k))).Json());
  std::vector<json> together(5);
  std::vector<std::thread> threads;
  for (int k = 0; k < 5; ++k)
    threads.emplace_back([&, k] { together[k] = Call(port_, Post("/v1/completions", body(k))).Json(); });
  for (auto& t : threads) t.join();
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(together[k]["choices"][0]["token_ids"], alone[k]["choices"][0]["token_ids"]) << k;
    EXPECT_EQ(together[k]["choices"][0]["token_ids"].size(), 24u);
  }
}

// A multi-turn chat prefills only the new turn: the earlier turns come from the prefix cache.
TEST_F(ServerTest, PrefixCacheServesMultiTurnChat) {
  StartServer();
  json body = {{"messages", {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello!"}}}},
               {"max_tokens", 12}, {"seed", 5}};
  const json first = Call(port_, Post("/v1/chat/completions", body.dump())).Json();
  const int first_prompt = first["usage"]["prompt_tokens"];
  body["messages"].push_back({{"role", "assistant"}, {"content", first["choices"][0]["message"]["content"]}});
  body["messages"].push_back({{"role", "user"}, {"content", "And then?"}});
  const json second = Call(port_, Post("/v1/chat/completions", body.dump())).Json();
  const int cached = second["usage"]["prompt_tokens_details"]["cached_tokens"];
  EXPECT_GE(cached, first_prompt);  // the whole first prompt, and the answer as far as it re-tokenizes alike
  EXPECT_LT(second["timings"]["prompt_n"].get<int>(), second["usage"]["prompt_tokens"].get<int>() - first_prompt + 1 +
                                                          first["usage"]["completion_tokens"].get<int>());
}

TEST_F(ServerTest, StopStringsEndTheAnswer) {
  StartServer();
  // Find some text the model writes, then ask it to stop there.
  const json probe = Call(port_, Post("/v1/completions", R"({"prompt":[2,105,7],"max_tokens":30,"seed":9,
                                                              "ignore_eos":true})"))
                         .Json();
  const std::string text = probe["choices"][0]["text"];
  ASSERT_GE(text.size(), 6u);
  const std::string stop = text.substr(text.size() / 2, 2);
  json body = {{"prompt", {2, 105, 7}}, {"max_tokens", 30}, {"seed", 9}, {"ignore_eos", true}, {"stop", stop}};
  const json cut = Call(port_, Post("/v1/completions", body.dump())).Json();
  EXPECT_EQ(cut["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(cut["choices"][0]["text"], text.substr(0, text.find(stop)));
}

// Per-request MatFormer sub-models: one load of the tiny E4B-like fixture answers as the whole
// model and as its E2B slice, each equal to transformers' greedy choice for that slice.
TEST(ServerSubModels, RequestsPickTheirSubModel) {
  g3n_model* model = LoadFixture("matformer/e4b-like", 64, "f32");
  ASSERT_NE(model, nullptr);
  {
    Server server(model, LoopbackOptions());
    ASSERT_TRUE(server.Start().ok());
    const int port = server.port();
    const json models = Get(port, "/v1/models").Json();
    ASSERT_EQ(models["data"].size(), 17u);  // the model and its 16 published sub-models
    EXPECT_EQ(models["data"][0]["id"], "e4b-like");
    EXPECT_EQ(Get(port, "/v1/models/e4b-like:E2B").status, 200);

    // The greedy next id after the fixture prompt, per sub-model, against transformers' argmax.
    for (const auto& [fixture, fields] : std::vector<std::pair<std::string, json>>{
             {"e4b", json::object()},
             {"e2b", {{"model", "e4b-like:E2B"}}},
             {"e2.98b-layer", {{"submodel", "E2.98B-layer"}}},
             {"e1.96b-layer", {{"model", "e1.96b-layer"}}}}) {
      auto ref = OpenSafetensors(FixtureDir("matformer/" + fixture) + "/reference.safetensors");
      ASSERT_TRUE(ref.ok());
      const std::vector<int32_t> ids = g3n::testing::ToInts(ref->tensors.at("input_ids"));
      const std::vector<float> logits = g3n::testing::ToFloats(ref->tensors.at("prefill_logits"));
      const int V = static_cast<int>(logits.size() / ids.size());
      json body = {{"prompt", ids}, {"max_tokens", 1}, {"temperature", 0}, {"ignore_eos", true},
                   {"return_token_ids", true}};
      body.update(fields);
      HttpReply r = Call(port, Post("/v1/completions", body.dump()));
      ASSERT_EQ(r.status, 200) << fixture << ": " << r.body;
      EXPECT_EQ(r.Json()["choices"][0]["token_ids"][0].get<int>(),
                g3n::testing::Argmax(logits.data() + (ids.size() - 1) * V, V))
          << fixture;
    }
    HttpReply bad = Call(port, Post("/v1/completions", R"({"prompt":[2,3],"max_tokens":1,"submodel":"E9B"})"));
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("E2.98B-layer"), std::string::npos) << bad.body;  // lists what is available
    server.Stop();
  }
  g3n_model_free(model);
}

// An input_audio part (base64 WAV) on the tiny audio model: the streamed ids are the C API's for
// the same turn; a broken file is a 400 naming the part.
TEST(ServerMedia, InputAudioPartMatchesTheCApi) {
  g3n_model* model = LoadFixture("tiny-audio");
  ASSERT_NE(model, nullptr);
  const std::vector<uint8_t> wav = g3n::testing::Wav(g3n::testing::TinyAudioClip());
  std::vector<int32_t> want;
  {
    g3n_session* s = nullptr;
    ASSERT_EQ(g3n_session_create(model, &s), G3N_OK);
    ASSERT_EQ(g3n_session_add_audio(s, wav.data(), wav.size()), G3N_OK);
    ASSERT_EQ(g3n_session_add_message(s, "user", "What is said?"), G3N_OK);
    g3n_generate_options go;
    g3n_generate_options_init(model, &go);
    go.greedy = 1;
    go.max_new_tokens = 6;
    go.ignore_eos = 1;
    ASSERT_EQ(g3n_session_generate(s, &go, [](void* u, int32_t id, const char*, size_t) {
                if (id >= 0) static_cast<std::vector<int32_t>*>(u)->push_back(id);
                return 0;
              }, &want, nullptr), G3N_OK);
    g3n_session_free(s);
  }
  const std::string b64 = EncodeBase64(std::string(wav.begin(), wav.end()));
  {
    Server server(model, LoopbackOptions());
    ASSERT_TRUE(server.Start().ok());
    json body = {{"messages", {{{"role", "user"},
                                {"content", {{{"type", "input_audio"}, {"input_audio", {{"data", b64}, {"format", "wav"}}}},
                                             {{"type", "text"}, {"text", "What is said?"}}}}}}},
                 {"max_tokens", 6}, {"temperature", 0}, {"ignore_eos", true}, {"return_token_ids", true}};
    HttpReply r = Call(server.port(), Post("/v1/chat/completions", body.dump()));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json()["choices"][0]["token_ids"].get<std::vector<int32_t>>(), want);
    body["messages"][0]["content"][0]["input_audio"]["data"] = "AAAA";
    HttpReply bad = Call(server.port(), Post("/v1/chat/completions", body.dump()));
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_NE(bad.body.find("audio"), std::string::npos) << bad.body;
    server.Stop();
  }
  g3n_model_free(model);
}

// POST /v1/audio/transcriptions (multipart, as OpenAI's client sends it): the text is the C API's
// greedy answer to the same clip and request; broken requests get 400s.
TEST(ServerMedia, AudioTranscriptionsEndpoint) {
  g3n_model* model = LoadFixture("tiny-audio");
  ASSERT_NE(model, nullptr);
  const std::vector<uint8_t> wav = g3n::testing::Wav(g3n::testing::TinyAudioClip());
  std::string want;
  {
    g3n_session* s = nullptr;
    ASSERT_EQ(g3n_session_create(model, &s), G3N_OK);
    ASSERT_EQ(g3n_session_add_audio(s, wav.data(), wav.size()), G3N_OK);
    ASSERT_EQ(g3n_session_add_message(s, "user", "Transcribe this audio clip."), G3N_OK);
    g3n_generate_options go;
    g3n_generate_options_init(model, &go);
    go.greedy = 1;
    go.max_new_tokens = 16;
    ASSERT_EQ(g3n_session_generate(s, &go, [](void* u, int32_t, const char* t, size_t n) {
                static_cast<std::string*>(u)->append(t, n);
                return 0;
              }, &want, nullptr), G3N_OK);
    g3n_session_free(s);
    while (!want.empty() && (want.back() == '\n' || want.back() == ' ')) want.pop_back();
  }
  ServerOptions o = LoopbackOptions();
  o.limits.max_tokens = 16;
  Server server(model, o);
  ASSERT_TRUE(server.Start().ok());
  const std::string b = "g3nBoundary42";
  auto form = [&](const std::string& file, const std::string& format) {
    std::string body = "--" + b + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ntiny-audio\r\n";
    if (!format.empty())
      body += "--" + b + "\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\n" + format + "\r\n";
    body += "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n" + file + "\r\n--" + b + "--\r\n";
    return "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" + b +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  const std::string file(wav.begin(), wav.end());
  HttpReply r = Call(server.port(), form(file, ""));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(r.Json()["text"], want);
  HttpReply v = Call(server.port(), form(file, "verbose_json"));
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.Json()["segments"].size(), 1u);
  EXPECT_EQ(v.Json()["segments"][0]["end"], 1.0);
  EXPECT_EQ(Call(server.port(), form("not audio", "")).status, 400);
  EXPECT_EQ(Call(server.port(), form(file, "srt")).status, 400);
  EXPECT_EQ(Call(server.port(), Post("/v1/audio/transcriptions", "{}")).status, 400);  // not multipart
  server.Stop();
  g3n_model_free(model);
}

}  // namespace
}  // namespace g3n::server

namespace g3n::server {
namespace {

// A session the memory limits cannot hold is a retryable 503 naming the memory, not a 500 or
// an OOM kill; once memory is handed back the same request is served.
TEST(ServerMemory, NoRoomForASessionIs503) {
  const std::string dir = FixtureDir("tiny-long");
  g3n_model_options mo;
  g3n_model_options_init(&mo);
  mo.threads = 2;
  mo.context = 40960;
  mo.kv_type = "f32";
  g3n_model* probe = nullptr;
  ASSERT_EQ(g3n_model_load(dir.c_str(), &mo, &probe), G3N_OK) << g3n_last_error();
  g3n_model_info info;
  ASSERT_EQ(g3n_model_get_info(probe, &info), G3N_OK);
  g3n_session* s = nullptr;
  ASSERT_EQ(g3n_session_create(probe, &s), G3N_OK);
  g3n_model_info with_one;
  ASSERT_EQ(g3n_model_get_info(probe, &with_one), G3N_OK);
  g3n_session_free(s);
  g3n_model_free(probe);
  const uint64_t session = with_one.memory_booked - info.memory_booked;
  ASSERT_GT(session, 0u);
  mo.memory_limit_mb = static_cast<int>((info.memory_booked + session + session / 2) >> 20);
  g3n_model* model = nullptr;
  ASSERT_EQ(g3n_model_load(dir.c_str(), &mo, &model), G3N_OK) << g3n_last_error();
  g3n_session* held = nullptr;
  ASSERT_EQ(g3n_session_create(model, &held), G3N_OK);  // takes the one session's room
  {
    Server server(model, LoopbackOptions());
    ASSERT_TRUE(server.Start().ok());
    const std::string body = R"({"prompt":[2,105,17],"max_tokens":2,"temperature":0})";
    HttpReply r = Call(server.port(), Post("/v1/completions", body));
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_NE(r.body.find("not enough memory"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("insufficient_memory"), std::string::npos) << r.body;
    g3n_session_free(held);
    held = nullptr;
    HttpReply ok = Call(server.port(), Post("/v1/completions", body));
    EXPECT_EQ(ok.status, 200) << ok.body;
    server.Stop();
  }
  g3n_model_free(model);
}

}  // namespace
}  // namespace g3n::server
