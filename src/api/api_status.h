// Errors inside the C API layer: a g3n_status code with its message, as a value. The C entry
// points turn a failed ApiStatus into the thread's last-error message and return the code.
#pragma once
#include <string>
#include <utility>

#include "gemma3n.h"
#include "util/status.h"

namespace g3n::api {

struct ApiStatus {
  g3n_status code = G3N_OK;
  std::string message;
  bool ok() const { return code == G3N_OK; }
};

inline ApiStatus ApiOk() { return {}; }
inline ApiStatus ApiError(g3n_status code, std::string message) { return {code, std::move(message)}; }
// A core Status (which carries no code) under the code the caller knows it stands for.
inline ApiStatus FromStatus(const Status& st, g3n_status code) {
  return st.ok() ? ApiOk() : ApiError(code, st.message());
}

// Records `st` as this thread's last error when it failed; returns its code.
g3n_status Report(const ApiStatus& st);

}  // namespace g3n::api
