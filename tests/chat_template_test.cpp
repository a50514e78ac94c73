// Chat format tests against transformers' apply_chat_template and Gemma3nProcessor outputs saved
// in tests/tokenizer/chat_cases.json by tools/make_tokenizer_fixtures.py. Rendering needs no
// tokenizer; the ids need the real one (skipped without ../shared/tokenizer).
#include "tokenizer/chat_template.h"
#include "tokenizer/gemma3n_tokens.h"
#include "tokenizer_test_util.h"

namespace g3n {
namespace {

using nlohmann::json;
using testing::TokenizerFixtureDir;

json ChatCases() {
  const json cases = json::parse(testing::ReadFileOrDie(TokenizerFixtureDir() + "/chat_cases.json"));
  EXPECT_GT(cases.size(), 10u);
  return cases;
}

TEST(ChatTemplate, RendersLikeTransformers) {
  for (const json& c : ChatCases()) {
    const std::string name = c["name"];
    auto msgs = ChatFromJson(c["messages"].dump());
    ASSERT_TRUE(msgs.ok()) << name << ": " << msgs.status().message();
    auto rendered = RenderChat(*msgs, c["add_generation_prompt"].get<bool>());
    if (c.contains("error")) {
      ASSERT_FALSE(rendered.ok()) << name;
      EXPECT_EQ(rendered.status().message(), c["error"].get<std::string>()) << name;
      continue;
    }
    ASSERT_TRUE(rendered.ok()) << name << ": " << rendered.status().message();
    EXPECT_EQ(*rendered, c["rendered"].get<std::string>()) << name;
    EXPECT_EQ(ExpandMedia(*rendered), c["expanded"].get<std::string>()) << name;
  }
}

TEST(ChatTemplate, IdsMatchTheGemma3nProcessor) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  auto g = gemma3n::FromGemma3(*tok);
  ASSERT_TRUE(g.ok()) << g.status().message();
  for (const json& c : ChatCases()) {
    if (c.contains("error")) continue;
    auto msgs = ChatFromJson(c["messages"].dump());
    ASSERT_TRUE(msgs.ok());
    auto ids = EncodeChat(*g, *msgs, c["add_generation_prompt"].get<bool>());
    ASSERT_TRUE(ids.ok()) << ids.status().message();
    EXPECT_EQ(*ids, c["ids"].get<std::vector<int32_t>>()) << c["name"].get<std::string>();
  }
}

TEST(ChatTemplate, TurnsAppendToTheRenderedConversation) {
  // What `gemma3n chat` relies on to prefill only the new turn.
  const std::vector<ChatMessage> msgs{ChatMessage::Text("system", "Be brief."), ChatMessage::Text("user", " Hi "),
                                      ChatMessage::Text("assistant", "Hello!\n"),
                                      ChatMessage::Items("user", {ChatItem{ChatItem::Type::kImage, ""},
                                                                  ChatItem{ChatItem::Type::kText, "What is it?"}})};
  for (size_t n = 2; n < msgs.size(); ++n) {
    const std::vector<ChatMessage> head(msgs.begin(), msgs.begin() + static_cast<long>(n));
    std::vector<ChatMessage> all = head;
    all.push_back(msgs[n]);
    auto before = RenderChat(head, false), turn = RenderTurn(msgs[n], true), after = RenderChat(all, true);
    ASSERT_TRUE(before.ok() && turn.ok() && after.ok());
    EXPECT_EQ(*before + *turn, *after) << n;
  }
  EXPECT_FALSE(RenderTurn(ChatMessage::Text("system", "x"), true).ok());
}

TEST(ChatTemplate, TrimIsPythonStrip) {
  EXPECT_EQ(TrimPythonWhitespace(" \t\n\r\v\f\x1c\x1f a b \xC2\xA0\xE3\x80\x80\xE2\x80\xA8"), "a b");
  EXPECT_EQ(TrimPythonWhitespace("\xE2\x80\x8B" "x\xE2\x80\x8B"), "\xE2\x80\x8B" "x\xE2\x80\x8B");  // ZWSP stays
  EXPECT_EQ(TrimPythonWhitespace("   "), "");
  EXPECT_EQ(TrimPythonWhitespace(""), "");
}

TEST(ChatTemplate, JsonRoundTripAndErrors) {
  const std::string text =
      R"([{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"image"},)"
      R"({"type":"audio"},{"type":"video"}]}])";
  auto msgs = ChatFromJson(text);
  ASSERT_TRUE(msgs.ok()) << msgs.status().message();
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ((*msgs)[1].items.size(), 3u);  // the video item is dropped, as the template ignores it
  auto again = ChatFromJson(ChatToJson(*msgs));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*RenderChat(*again, true), *RenderChat(*msgs, true));

  EXPECT_FALSE(ChatFromJson("{}").ok());
  EXPECT_FALSE(ChatFromJson(R"([{"content":"x"}])").ok());
  auto bad_content = ChatFromJson(R"([{"role":"user","content":null}])");
  ASSERT_FALSE(bad_content.ok());
  EXPECT_NE(bad_content.status().message().find("Invalid content type"), std::string::npos);
  EXPECT_FALSE(RenderChat({}, true).ok());
  EXPECT_FALSE(RenderChat({ChatMessage::Items("system", {ChatItem{ChatItem::Type::kImage, ""}}),
                           ChatMessage::Text("user", "x")},
                          true)
                   .ok());
}

TEST(ChatTemplate, TypedMediaPlaceholdersAreRejected) {
  G3N_SHARED_TOKENIZER_OR_SKIP(tok);
  auto g = gemma3n::FromGemma3(*tok);
  ASSERT_TRUE(g.ok());
  auto ids = EncodeChat(*g, {ChatMessage::Text("user", "look: <image_soft_token>")}, true);
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("placeholders"), std::string::npos) << ids.status().message();
}

}  // namespace
}  // namespace g3n
