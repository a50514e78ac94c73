// Rewinding a session's KV cache to an earlier position, so that a conversation can drop its
// tail (a regenerated answer, a prompt that diverges from the cached one) and keep the prefix.
#pragma once
#include "model/text_decoder.h"

namespace g3n::api {

// Whether setting session.pos back to `pos` leaves every key a later forward reads intact.
// Global layers keep every position. A sliding-window ring of S slots holds positions
// [old_pos - S, old_pos); the next query at `pos` reads [pos - window + 1, pos), so the rewind
// is safe while old_pos - pos <= S - window + 1 (rings are window + max_chunk - 1 long, so any
// rewind of up to max_chunk positions). old_pos is the highest position ever written
// (Session::written), not the current one: after an earlier rewind the rows above pos still
// occupy the ring. Stale rows past `pos` are overwritten before they are
// read, since a chunk writes all its keys before it attends.
bool CanRewind(const Session& session, int window, int pos);

}  // namespace g3n::api
