#!/usr/bin/env bash
# curl against a running `gemma3n serve` (default http://127.0.0.1:8080): each call must succeed
# (or fail with the status it should). Usage: tests/server/curl_examples.sh [BASE_URL]
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
fail() { echo "curl_examples: $*" >&2; exit 1; }
check() {  # check NAME EXPECTED_STATUS curl-args...
  local name=$1 want=$2; shift 2
  local out status
  out=$(curl -sS -o /tmp/g3n_curl_body.$$ -w '%{http_code}' "$@") || fail "$name: curl failed"
  status=$out
  [ "$status" = "$want" ] || fail "$name: HTTP $status, want $want: $(head -c 300 /tmp/g3n_curl_body.$$)"
  echo "ok  $name ($status)"
}
trap 'rm -f /tmp/g3n_curl_body.$$' EXIT

check health 200 "$BASE/health"
check models 200 "$BASE/v1/models"
check chat 200 "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model": "any", "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 16}'
grep -q '"chat.completion"' /tmp/g3n_curl_body.$$ || fail "chat: not a chat.completion"
check chat-stream 200 -N "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 16, "stream": true}'
tail -c 20 /tmp/g3n_curl_body.$$ | grep -q 'data: \[DONE\]' || fail "chat-stream: no [DONE]"
check completion-ids 200 "$BASE/v1/completions" -H 'Content-Type: application/json' \
  -d '{"prompt": [2, 105, 7], "max_tokens": 8, "seed": 1, "return_token_ids": true}'
grep -q '"token_ids"' /tmp/g3n_curl_body.$$ || fail "completion-ids: no token_ids"
check bad-json 400 "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -d '{"messages": ['
check image-part 400 "$BASE/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}'
check unknown-path 404 "$BASE/v2/nothing"
echo "curl_examples: all passed"
