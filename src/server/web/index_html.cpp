// The chat page's HTML (served at /).
#include "server/web/assets.h"

namespace g3n::server::web {

extern const char kIndexHtml[] = R"G3N(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gemma3n.cpp</title>
<link rel="stylesheet" href="/chat.css">
</head>
<body>
<header>
  <h1>gemma3n.cpp</h1>
  <span id="model" class="muted">…</span>
  <span class="spacer"></span>
  <details id="settings">
    <summary>Settings</summary>
    <label>System prompt <textarea id="system" rows="2" placeholder="(none)"></textarea></label>
    <label>Temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="1"></label>
    <label>Max tokens <input id="max-tokens" type="number" min="1" step="1" value="512"></label>
  </details>
  <button id="new-chat" type="button">New chat</button>
</header>
<main id="messages" aria-live="polite"></main>
<div id="attachments"></div>
<form id="composer" autocomplete="off">
  <label id="attach" class="icon" title="Attach an image or audio file"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5"/></svg><input id="file" type="file" accept="image/*,audio/*" multiple hidden></label>
  <button id="mic" class="icon" type="button" title="Record from the microphone"><svg viewBox="0 0 24 24" aria-hidden="true"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/></svg></button>
  <textarea id="input" rows="2" placeholder="Message (Enter sends, Shift+Enter for a new line)"></textarea>
  <button id="send" type="submit">Send</button>
  <button id="stop" type="button" hidden>Stop</button>
</form>
<footer id="stats" class="muted"></footer>
<script src="/chat.js"></script>
</body>
</html>
)G3N";

}  // namespace g3n::server::web
