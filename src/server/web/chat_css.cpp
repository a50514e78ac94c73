// The chat page's style sheet (served at /chat.css).
#include "server/web/assets.h"

namespace g3n::server::web {

extern const char kChatCss[] = R"G3N(
:root { --bg: #f7f7f8; --fg: #1d1d1f; --muted: #6e6e73; --user: #dbeafe; --bot: #ffffff; --err: #fee2e2;
        --line: #d8d8dc; --accent: #2563eb; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #18181b; --fg: #ececf1; --muted: #a1a1aa; --user: #1e3a5f; --bot: #27272a; --err: #5f1e1e;
          --line: #3f3f46; --accent: #60a5fa; }
}
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; background: var(--bg); color: var(--fg);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: center; gap: 12px; padding: 8px 16px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0; }
.spacer { flex: 1; }
.muted { color: var(--muted); font-size: 13px; }
#settings { position: relative; }
#settings[open] > :not(summary) { display: block; }
#settings label { display: block; margin: 6px 0; font-size: 13px; }
#settings textarea, #settings input { width: 240px; display: block; }
#settings[open] { background: var(--bot); border: 1px solid var(--line); padding: 6px 10px; border-radius: 8px;
                  position: absolute; right: 110px; top: 6px; z-index: 2; }
main { flex: 1; overflow-y: auto; padding: 16px; display: flex; flex-direction: column; gap: 10px; }
.msg { max-width: 820px; width: fit-content; padding: 8px 12px; border-radius: 12px; border: 1px solid var(--line); }
.msg.user { align-self: flex-end; background: var(--user); }
.msg.assistant { align-self: flex-start; background: var(--bot); }
.msg.error { align-self: center; background: var(--err); font-size: 14px; }
.msg .content { white-space: pre-wrap; overflow-wrap: anywhere; }
.msg .meta { color: var(--muted); font-size: 12px; margin-top: 4px; }
.msg .parts { display: flex; gap: 6px; flex-wrap: wrap; margin-bottom: 4px; }
.msg img { max-height: 120px; border-radius: 6px; }
.msg.streaming .content::after { content: "▍"; animation: blink 1s steps(2) infinite; }
@keyframes blink { 50% { opacity: 0; } }
#attachments { display: flex; gap: 6px; padding: 0 16px; flex-wrap: wrap; }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 2px 10px; font-size: 13px; background: var(--bot); }
.chip button { border: 0; background: none; cursor: pointer; color: var(--muted); }
form { display: flex; gap: 8px; padding: 10px 16px; border-top: 1px solid var(--line); align-items: flex-end; }
textarea#input { flex: 1; resize: none; font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--line);
                 background: var(--bot); color: var(--fg); }
button, .icon { font: inherit; padding: 8px 14px; border-radius: 8px; border: 1px solid var(--line); background: var(--bot);
                color: var(--fg); cursor: pointer; }
button#send { background: var(--accent); color: white; border-color: var(--accent); }
button#stop { background: #dc2626; color: white; border-color: #dc2626; }
.icon { display: inline-flex; align-items: center; padding: 8px 10px; }
.icon svg { width: 20px; height: 20px; fill: none; stroke: currentColor; stroke-width: 1.8; stroke-linecap: round; }
#mic.recording { background: #dc2626; color: white; }
footer { padding: 2px 16px 8px; min-height: 24px; }
)G3N";

}  // namespace g3n::server::web
