// The web page's files as NUL-terminated strings, one translation unit each.
#pragma once

namespace g3n::server::web {

extern const char kIndexHtml[];
extern const char kChatCss[];
extern const char kChatJs[];

}  // namespace g3n::server::web
