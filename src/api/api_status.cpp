#include "api/api_status.h"

namespace g3n::api {
namespace {
thread_local std::string t_last_error;
}  // namespace

g3n_status Report(const ApiStatus& st) {
  if (!st.ok()) t_last_error = st.message.empty() ? g3n_status_name(st.code) : st.message;
  return st.code;
}

}  // namespace g3n::api

extern "C" const char* g3n_last_error(void) { return g3n::api::t_last_error.c_str(); }

extern "C" const char* g3n_status_name(g3n_status status) {
  switch (status) {
    case G3N_OK: return "G3N_OK";
    case G3N_ERR_INVALID_ARGUMENT: return "G3N_ERR_INVALID_ARGUMENT";
    case G3N_ERR_IO: return "G3N_ERR_IO";
    case G3N_ERR_UNSUPPORTED: return "G3N_ERR_UNSUPPORTED";
    case G3N_ERR_CONTEXT_FULL: return "G3N_ERR_CONTEXT_FULL";
    case G3N_ERR_BUFFER_TOO_SMALL: return "G3N_ERR_BUFFER_TOO_SMALL";
    case G3N_ERR_BUSY: return "G3N_ERR_BUSY";
    case G3N_ERR_NO_TOKENIZER: return "G3N_ERR_NO_TOKENIZER";
    case G3N_ERR_OUT_OF_MEMORY: return "G3N_ERR_OUT_OF_MEMORY";
    case G3N_ERR_INTERNAL: return "G3N_ERR_INTERNAL";
  }
  return "G3N_ERR_UNKNOWN";
}
