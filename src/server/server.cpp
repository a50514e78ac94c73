#include "server/server.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/multipart.h"
#include "server/openai_request.h"
#include "server/web_assets.h"

namespace g3n::server {
namespace {

using json = nlohmann::json;

HttpResponse Json(const json& j, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

std::string ModelId(g3n_model* model, const std::string& given) {
  if (!given.empty()) return given;
  g3n_model_info info{};
  g3n_model_get_info(model, &info);
  return info.name != nullptr && info.name[0] != '\0' ? info.name : "gemma3n";
}

// "/v1/chat/completions" and "/chat/completions" are the same endpoint.
std::string_view Endpoint(std::string_view path) {
  if (path.substr(0, 4) == "/v1/") path.remove_prefix(3);
  return path;
}

void MethodNotAllowed(ResponseWriter& w, const char* allow) {
  HttpResponse r = ErrorResponse(ApiError{405, std::string("method not allowed; use ") + allow, "", "", ""});
  r.headers.emplace_back("Allow", allow);
  w.Send(r);
}

}  // namespace

Server::Server(g3n_model* model, ServerOptions options)
    : options_(std::move(options)),
      service_(model, ModelId(model, options_.model_id), options_.limits),
      started_at_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                      .count()) {
  HttpServer::Logger logger;
  if (options_.log_requests) {
    logger = [](const HttpRequest& req, int status, double seconds) {
      std::fprintf(stderr, "[serve] %s %s %s %d %.3fs\n", req.remote.c_str(), req.method.c_str(), req.path.c_str(),
                   status, seconds);
    };
  }
  http_ = std::make_unique<HttpServer>(
      options_.http, [this](const HttpRequest& req, ResponseWriter& w) { Route(req, w); },
      [](int status, const std::string& message) { return ErrorResponse(ApiError{status, message, "", "", ""}); },
      logger);
}

Server::~Server() { Stop(); }

Status Server::Start() { return http_->Start(options_.host, options_.port); }

void Server::Stop() {
  service_.Shutdown();
  http_->Stop();
}

void Server::Health(ResponseWriter& w) {
  const ServiceStats s = service_.stats();
  const ServiceLimits& l = service_.limits();
  w.Send(Json({{"status", "ok"},
               {"model", service_.model_id()},
               {"context", service_.info().context},
               {"active", s.active},
               {"queued", s.queued},
               {"max_concurrent", l.max_concurrent},
               {"queue", l.queue},
               {"sessions", service_.sessions()},
               {"served", s.served},
               {"rejected_busy", s.rejected_busy},
               {"cancelled", s.cancelled}}));
}

void Server::Models(const HttpRequest& req, ResponseWriter& w) {
  const json model = {{"id", service_.model_id()},
                      {"object", "model"},
                      {"created", started_at_},
                      {"owned_by", "gemma3n.cpp"},
                      {"context_length", service_.info().context}};
  // Each MatFormer sub-model the model can run is listed as "<id>:<name>" (what a request's
  // `model` may name to pick it).
  json all = json::array({model});
  for (const std::string& sub : service_.sub_models()) {
    json m = model;
    m["id"] = service_.model_id() + ":" + sub;
    m["parent"] = service_.model_id();
    all.push_back(std::move(m));
  }
  const std::string_view ep = Endpoint(req.path);
  if (ep == "/models") return (void)w.Send(Json({{"object", "list"}, {"data", all}}));
  const std::string_view id = ep.substr(std::string_view("/models/").size());
  for (const json& m : all)
    if (m["id"].get<std::string>() == id) return (void)w.Send(Json(m));
  w.Send(ErrorResponse(ApiError{404, "The model '" + std::string(id) + "' does not exist", "model", "model_not_found", ""}));
}

void Server::Route(const HttpRequest& req, ResponseWriter& w) {
  const std::string_view ep = Endpoint(req.path);
  if (ep == "/chat/completions" || ep == "/completions") {
    if (req.method != "POST") return MethodNotAllowed(w, "POST");
    CompletionRequest rq;
    const bool chat = ep == "/chat/completions";
    auto err = chat ? ParseChatRequest(req.body, &rq) : ParseCompletionRequest(req.body, &rq);
    if (err) return (void)w.Send(ErrorResponse(*err));
    return service_.Handle(rq, w);
  }
  if (ep == "/audio/transcriptions" || ep == "/audio/translations") {
    if (req.method != "POST") return MethodNotAllowed(w, "POST");
    std::string why;
    auto parts = ParseMultipart(req.Header("content-type"), req.body, &why);
    if (!parts) return (void)w.Send(ErrorResponse(ApiError{400, why, "", "", ""}));
    const FormPart* file = nullptr;
    std::string format = "json", translate_to = ep == "/audio/translations" ? "English" : "";
    for (const FormPart& p : *parts) {
      if (p.name == "file") file = &p;
      if (p.name == "response_format") format = p.data;
      if (p.name == "translate_to") translate_to = p.data;  // extension: any target language
    }
    if (file == nullptr || file->data.empty())
      return (void)w.Send(ErrorResponse(ApiError{400, "a non-empty 'file' part is required", "file", "", ""}));
    return service_.Transcribe(file->data, translate_to, format, w);
  }
  if (ep == "/models" || ep.substr(0, 8) == "/models/") {
    if (req.method != "GET") return MethodNotAllowed(w, "GET");
    return Models(req, w);
  }
  if (req.path == "/health") {
    if (req.method != "GET") return MethodNotAllowed(w, "GET");
    return Health(w);
  }
  if (const WebAsset* a = FindWebAsset(req.path)) {
    if (req.method != "GET") return MethodNotAllowed(w, "GET");
    HttpResponse r;
    r.content_type = std::string(a->content_type);
    r.body = std::string(a->body);
    r.headers.emplace_back("Cache-Control", "no-cache");
    return (void)w.Send(r);
  }
  w.Send(ErrorResponse(ApiError{404, "no such endpoint: " + req.method + " " + req.path, "", "", ""}));
}

}  // namespace g3n::server
