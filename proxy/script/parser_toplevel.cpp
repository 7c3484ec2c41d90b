// Top-level items: route blocks, name=value settings, loadmodule, loadpath, modparam, flags.
#include <cctype>

#include "proxy/script/parser_impl.h"

namespace strowger::proxy::script {
namespace {

bool is_route_keyword(std::string_view w) {
  return w == "route" || w == "request_route" || w == "reply_route" || w == "onreply_route" ||
         w == "failure_route" || w == "branch_route" || w == "onsend_route" || w == "event_route";
}

// Kamailio's EVENT_RT_NAME: [a-zA-Z][0-9a-zA-Z-]*(":"[a-zA-Z][0-9a-zA-Z_-]*)+
bool valid_event_name(std::string_view s) {
  std::size_t i = 0;
  int parts = 0;
  while (i < s.size()) {
    if (!std::isalpha(static_cast<unsigned char>(s[i]))) return false;
    ++i;
    while (i < s.size() && s[i] != ':' &&
           (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' ||
            (parts > 0 && s[i] == '_'))) {
      ++i;
    }
    ++parts;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i == s.size()) return false;
  }
  return parts >= 2;
}

// Route tables: a name must be unique within its table.
int route_table(RouteKind kind) {
  switch (kind) {
    case RouteKind::kRequest:
    case RouteKind::kRoute:
      return 0;
    case RouteKind::kReply:
    case RouteKind::kOnReply:
      return 1;
    case RouteKind::kFailure:
      return 2;
    case RouteKind::kBranch:
      return 3;
    case RouteKind::kOnSend:
      return 4;
    case RouteKind::kEvent:
      return 5;
  }
  return 0;
}

}  // namespace

void Parser::parse(Script* script) {
  while (!stop() && !at(TokenKind::kEnd)) {
    unwind_ = false;
    std::size_t before = pos_;
    top_item(script);
    if (pos_ == before && !stop()) advance();
  }
}

void Parser::top_item(Script* script) {
  const Token& t = peek();
  if (t.kind == TokenKind::kSemicolon) {
    advance();
    return;
  }
  if (t.kind == TokenKind::kIdent) {
    const std::string& w = t.text;
    TokenKind next = peek(1).kind;
    if (is_route_keyword(w) &&
        (w != "route" || next == TokenKind::kLBrace || next == TokenKind::kLBracket)) {
      route_block(script);
      return;
    }
    if (w == "loadmodule") return loadmodule(script);
    if (w == "loadpath" || w == "mpath") return loadpath(script);
    if (w == "modparam" || w == "modparamx") return modparam(script);
    if (w == "flags" || w == "bool" || w == "avpflags") return flags_decl(script);
    if (w == "cfgengine") return cfgengine(script);
    if (next == TokenKind::kAssign ||
        (next == TokenKind::kDot && peek(2).kind == TokenKind::kIdent &&
         peek(3).kind == TokenKind::kAssign) ||
        (next == TokenKind::kLBracket && peek(2).kind == TokenKind::kInt &&
         peek(3).kind == TokenKind::kRBracket && peek(4).kind == TokenKind::kDot)) {
      return global_param(script);
    }
  }
  error(t.loc, "unexpected " + describe_token(t) +
                   " at top level: expected a route block, loadmodule, modparam or a "
                   "'name = value' setting");
  sync_top();
}

void Parser::sync_top() {
  int depth = 0;
  while (!at(TokenKind::kEnd)) {
    if (depth == 0 && at(TokenKind::kIdent)) {
      const Token& t = peek();
      TokenKind next = peek(1).kind;
      if (top_level_start() || t.text == "flags" || t.text == "avpflags" || t.text == "cfgengine" ||
          next == TokenKind::kAssign) {
        return;
      }
    }
    if (at(TokenKind::kLBrace)) ++depth;
    if (at(TokenKind::kRBrace) && depth > 0) --depth;
    advance();
  }
}

bool Parser::route_name(const Token& keyword, std::string* name, SourceLoc* name_loc) {
  const Token& t = peek();
  *name_loc = t.loc;
  if (keyword.text == "event_route") {
    if (t.kind != TokenKind::kEventName) {
      error(t.loc, "expected an event route name (module:event) after 'event_route['");
      return false;
    }
    *name = advance().text;
    if (!valid_event_name(*name)) {
      error(t.loc, "invalid event route name '" + *name + "' (expected module:event)");
      return false;
    }
  } else if (t.kind == TokenKind::kIdent || t.kind == TokenKind::kString) {
    *name = advance().text;
  } else if (t.kind == TokenKind::kInt) {
    *name = std::to_string(advance().int_value);
  } else {
    error(t.loc, "expected a route name after '" + keyword.text + "[', found " + describe_token(t));
    return false;
  }
  if (name->empty()) {
    error(t.loc, "empty route name");
    return false;
  }
  if (!accept(TokenKind::kRBracket)) {
    error(prev().end, "expected ']' after the route name, found " + describe_token(peek()));
    return false;
  }
  return true;
}

void Parser::route_block(Script* script) {
  const Token& kw = advance();
  Route route;
  route.loc = route.name_loc = kw.loc;
  const std::string& w = kw.text;
  bool named = at(TokenKind::kLBracket);
  if (named && (w == "request_route" || w == "reply_route")) {
    error(peek().loc, "'" + w + "' takes no name");
    sync_top();
    return;
  }
  if (named) {
    advance();
    if (!route_name(kw, &route.name, &route.name_loc)) {
      sync_top();
      return;
    }
  } else if (w == "event_route") {
    error(prev().end, "expected '[module:event]' after 'event_route'");
    sync_top();
    return;
  }
  if (w == "route") {
    route.kind = named ? RouteKind::kRoute : RouteKind::kRequest;
  } else if (w == "request_route") {
    route.kind = RouteKind::kRequest;
  } else if (w == "reply_route") {
    route.kind = RouteKind::kReply;
  } else if (w == "onreply_route") {
    route.kind = named && route.name != "0" ? RouteKind::kOnReply : RouteKind::kReply;
    if (route.kind == RouteKind::kReply) route.name.clear();
  } else if (w == "failure_route") {
    route.kind = RouteKind::kFailure;
  } else if (w == "branch_route") {
    route.kind = RouteKind::kBranch;
  } else if (w == "onsend_route") {
    route.kind = RouteKind::kOnSend;
  } else {
    route.kind = RouteKind::kEvent;
  }
  if (!at(TokenKind::kLBrace)) {
    error(prev().end, "expected '{' to open the " + w + " block, found " + describe_token(peek()));
    sync_top();
    return;
  }
  const Token& open = advance();
  route.body = block_body(open);
  auto key = std::make_pair(route_table(route.kind), route.name);
  auto [it, inserted] = routes_seen_.emplace(key, route.name_loc);
  if (!inserted) {
    std::string shown = route.name.empty() ? w : w + "[" + route.name + "]";
    error(route.name_loc, "duplicate " + shown + " (first defined at " + where(it->second) + ")");
    return;
  }
  script->routes.push_back(std::move(route));
}

}  // namespace strowger::proxy::script
