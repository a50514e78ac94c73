#include "server/web_assets.h"

#include "server/web/assets.h"

namespace g3n::server {

const WebAsset* FindWebAsset(std::string_view path) {
  static const WebAsset kAssets[] = {
      {"/", "text/html; charset=utf-8", web::kIndexHtml},
      {"/index.html", "text/html; charset=utf-8", web::kIndexHtml},
      {"/chat.css", "text/css; charset=utf-8", web::kChatCss},
      {"/chat.js", "text/javascript; charset=utf-8", web::kChatJs},
  };
  for (const WebAsset& a : kAssets) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace g3n::server
