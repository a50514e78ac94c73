// An error answered in OpenAI's shape:
//   {"error": {"message": ..., "type": "invalid_request_error", "param": ..., "code": ...}}
// so that clients (the openai package raises BadRequestError etc. from it) show the message.
#pragma once
#include <string>

#include "server/http_types.h"

namespace g3n::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string param;  // the request field at fault; empty: null
  std::string code;   // e.g. "context_length_exceeded"; empty: null
  std::string type;   // empty: derived from status (invalid_request_error / server_error / ...)
};

std::string ErrorJson(const ApiError& e);
HttpResponse ErrorResponse(const ApiError& e);

}  // namespace g3n::server
