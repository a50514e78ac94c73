// The chat page's script (served at /chat.js): keeps the conversation in the page, sends it
// whole to /v1/chat/completions with stream: true (the server's prefix cache makes that cheap),
// and renders the SSE deltas as they arrive. Stop aborts the fetch, which the server notices
// as a closed connection and stops generating.
#include "server/web/assets.h"

namespace g3n::server::web {

extern const char kChatJs[] = R"G3N(
"use strict";
const $ = (id) => document.getElementById(id);
const state = { history: [], attachments: [], controller: null, recorder: null, model: "" };

function addBubble(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  const content = document.createElement("div");
  content.className = "content";
  content.textContent = text;
  div.appendChild(content);
  $("messages").appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

function setMeta(bubble, text) {
  let meta = bubble.querySelector(".meta");
  if (!meta) { meta = document.createElement("div"); meta.className = "meta"; bubble.appendChild(meta); }
  meta.textContent = text;
}

function showError(message) { addBubble("error", message); }

function setBusy(busy) {
  $("send").hidden = busy;
  $("stop").hidden = !busy;
  $("input").disabled = busy;
}

async function loadModel() {
  try {
    const r = await fetch("/v1/models");
    const j = await r.json();
    state.model = j.data[0].id;
    $("model").textContent = state.model + " · context " + j.data[0].context_length;
  } catch (e) {
    $("model").textContent = "(server unreachable)";
  }
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const fr = new FileReader();
    fr.onload = () => resolve(fr.result);
    fr.onerror = () => reject(fr.error);
    fr.readAsDataURL(file);
  });
}

async function attach(file) {
  const url = await readAsDataUrl(file);
  const kind = file.type.startsWith("image/") ? "image" : "audio";
  state.attachments.push({ kind, name: file.name || kind, type: file.type, url });
  renderAttachments();
}

function renderAttachments() {
  const box = $("attachments");
  box.textContent = "";
  state.attachments.forEach((a, i) => {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.textContent = (a.kind === "image" ? "\u{1F5BC} " : "\u{1F50A} ") + a.name + " ";
    const x = document.createElement("button");
    x.type = "button";
    x.textContent = "\u00D7";
    x.title = "Remove";
    x.onclick = () => { state.attachments.splice(i, 1); renderAttachments(); };
    chip.appendChild(x);
    box.appendChild(chip);
  });
}

// OpenAI content parts for the attachments plus the text.
function userContent(text) {
  if (state.attachments.length === 0) return text;
  const parts = state.attachments.map((a) => {
    if (a.kind === "image") return { type: "image_url", image_url: { url: a.url } };
    const format = (a.type.split("/")[1] || "wav").replace("mpeg", "mp3").replace("x-wav", "wav");
    return { type: "input_audio", input_audio: { data: a.url.split(",")[1], format } };
  });
  if (text) parts.push({ type: "text", text });
  return parts;
}

async function errorText(response) {
  try {
    const j = await response.json();
    if (j.error && j.error.message) return j.error.message;
  } catch (e) { /* not JSON */ }
  return "HTTP " + response.status;
}

async function send(text) {
  const content = userContent(text);
  const userBubble = addBubble("user", text);
  if (state.attachments.length) setMeta(userBubble, state.attachments.map((a) => a.name).join(", "));
  state.attachments = [];
  renderAttachments();
  const messages = [];
  const system = $("system").value.trim();
  if (system) messages.push({ role: "system", content: system });
  messages.push(...state.history, { role: "user", content });

  const body = {
    model: state.model, messages, stream: true, stream_options: { include_usage: true },
    temperature: parseFloat($("temperature").value), max_tokens: parseInt($("max-tokens").value, 10),
  };
  // Extra request fields for experiments and tests, set from the console: e.g.
  // window.g3nExtraBody = { ignore_eos: true, seed: 1 }.
  Object.assign(body, window.g3nExtraBody || {});
  state.controller = new AbortController();
  setBusy(true);
  let bubble = null, answer = "", timings = null, usage = null, stopped = false;
  const t0 = performance.now();
  let firstTokenAt = 0, chunks = 0;
  try {
    const r = await fetch("/v1/chat/completions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), signal: state.controller.signal,
    });
    if (!r.ok) {
      showError(await errorText(r));
      return;  // the failed message stays out of the history
    }
    bubble = addBubble("assistant streaming", "");
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data: ")) continue;
          const data = line.slice(6);
          if (data === "[DONE]") continue;
          const j = JSON.parse(data);
          if (j.error) { showError(j.error.message); continue; }
          if (j.usage) usage = j.usage;
          if (j.timings) timings = j.timings;
          const delta = j.choices && j.choices[0] && j.choices[0].delta;
          if (delta && delta.content) {
            if (!firstTokenAt) firstTokenAt = performance.now();
            ++chunks;
            bubble.dataset.chunks = chunks;  // how many deltas were shown (the tests read it)
            answer += delta.content;
            bubble.querySelector(".content").textContent = answer;
            bubble.scrollIntoView({ block: "end" });
            const secs = (performance.now() - firstTokenAt) / 1000;
            if (secs > 0.2) $("stats").textContent = (chunks / secs).toFixed(1) + " tokens/s";
          }
        }
      }
    }
  } catch (e) {
    if (e.name === "AbortError") stopped = true; else showError(String(e));
  } finally {
    state.controller = null;
    setBusy(false);
    $("input").focus();
  }
  if (!bubble) return;
  bubble.classList.remove("streaming");
  state.history.push({ role: "user", content });
  state.history.push({ role: "assistant", content: answer });
  const secs = ((firstTokenAt || performance.now()) - t0) / 1000;
  let line = stopped ? "stopped · " : "";
  if (timings) {
    line += timings.predicted_n + " tokens · " + timings.predicted_per_second.toFixed(1) + " tokens/s" +
            " · prompt " + timings.prompt_n + " new + " + timings.cache_n + " cached";
  } else {
    line += chunks + (chunks === 1 ? " chunk" : " chunks");
  }
  line += " · first token " + secs.toFixed(2) + " s";
  setMeta(bubble, line);
  $("stats").textContent = line;
  if (usage) $("stats").textContent += " · total " + usage.total_tokens + " tokens";
}

async function toggleMic() {
  if (state.recorder) { state.recorder.stop(); return; }
  if (!navigator.mediaDevices || !window.MediaRecorder) { showError("This browser cannot record audio."); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const rec = new MediaRecorder(stream);
    const parts = [];
    rec.ondataavailable = (e) => parts.push(e.data);
    rec.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      state.recorder = null;
      $("mic").classList.remove("recording");
      const blob = new Blob(parts, { type: rec.mimeType || "audio/webm" });
      await attach(new File([blob], "recording." + (blob.type.split("/")[1] || "webm").split(";")[0],
                            { type: blob.type }));
    };
    rec.start();
    state.recorder = rec;
    $("mic").classList.add("recording");
  } catch (e) {
    showError("Microphone: " + e.message);
  }
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("input").value.trim();
  if (!text && state.attachments.length === 0) return;
  $("input").value = "";
  send(text);
});
$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
});
$("stop").addEventListener("click", () => { if (state.controller) state.controller.abort(); });
$("new-chat").addEventListener("click", () => {
  if (state.controller) state.controller.abort();
  state.history = [];
  $("messages").textContent = "";
  $("stats").textContent = "";
});
$("file").addEventListener("change", async (e) => {
  for (const f of e.target.files) await attach(f);
  e.target.value = "";
});
$("mic").addEventListener("click", toggleMic);
loadModel();
$("input").focus();
)G3N";

}  // namespace g3n::server::web
