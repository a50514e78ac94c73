#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace g3n::server {
namespace {

std::string TypeFor(int status) {
  if (status == 401) return "authentication_error";
  if (status == 404) return "not_found_error";
  if (status == 429) return "rate_limit_error";
  if (status == 503) return "server_overloaded";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

}  // namespace

std::string ErrorJson(const ApiError& e) {
  nlohmann::json err = {{"message", e.message},
                        {"type", e.type.empty() ? TypeFor(e.status) : e.type},
                        {"param", e.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.param)},
                        {"code", e.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.code)}};
  return nlohmann::json{{"error", err}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse ErrorResponse(const ApiError& e) {
  HttpResponse r;
  r.status = e.status;
  r.body = ErrorJson(e);
  if (e.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace g3n::server
