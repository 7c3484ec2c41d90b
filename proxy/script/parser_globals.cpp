// Top-level settings: name=value lines, loadmodule, loadpath, modparam, flags, cfgengine.
#include "proxy/script/parser_impl.h"

namespace strowger::proxy::script {
namespace {

bool same_line(const Token& a, const Token& b) {
  return a.end.file == b.loc.file && a.end.line == b.loc.line;
}

}  // namespace

bool Parser::global_atom(std::string* text, GlobalValue::Kind* kind, std::int64_t* int_value) {
  const Token& t = peek();
  switch (t.kind) {
    case TokenKind::kInt:
      *kind = GlobalValue::Kind::kInt;
      *int_value = t.int_value;
      *text += advance().text;
      return true;
    case TokenKind::kIdent:
      *kind = GlobalValue::Kind::kIdent;
      *text += advance().text;
      return true;
    case TokenKind::kString:
      *kind = GlobalValue::Kind::kString;
      *text += advance().text;
      return true;
    case TokenKind::kIPv6:
    case TokenKind::kStar:
      *kind = GlobalValue::Kind::kComposite;
      *text += advance().text;
      return true;
    case TokenKind::kLBracket:
      if (peek(1).kind == TokenKind::kIPv6 && peek(2).kind == TokenKind::kRBracket) {
        advance();
        *text += "[" + advance().text + "]";
        advance();
        *kind = GlobalValue::Kind::kComposite;
        return true;
      }
      break;
    case TokenKind::kLParen: {  // multi-homed list: sctp:(10.0.0.1, 10.0.0.2):5060
      advance();
      *text += "(";
      for (;;) {
        GlobalValue inner;
        if (!global_item(&inner)) return false;
        *text += inner.text;
        if (accept(TokenKind::kComma)) {
          *text += ",";
          continue;
        }
        if (!accept(TokenKind::kRParen)) {
          error(prev().end, "expected ')' to close the address list");
          return false;
        }
        *text += ")";
        *kind = GlobalValue::Kind::kComposite;
        return true;
      }
    }
    default:
      break;
  }
  error(t.loc, "expected a value (number, string, name or address), found " + describe_token(t));
  return false;
}

bool Parser::global_item(GlobalValue* value) {
  DepthGuard guard(this);
  if (!guard) return false;
  value->loc = peek().loc;
  if (at(TokenKind::kMinus) && peek(1).kind == TokenKind::kInt) {
    advance();
    const Token& n = advance();
    value->kind = GlobalValue::Kind::kInt;
    value->int_value = -n.int_value;
    value->text = "-" + n.text;
    return true;
  }
  std::string text;
  GlobalValue::Kind kind;
  std::int64_t int_value = 0;
  if (!global_atom(&text, &kind, &int_value)) return false;
  int atoms = 1;
  for (;;) {
    bool joiner = at(TokenKind::kColon) || at(TokenKind::kDot) || at(TokenKind::kSlash) ||
                  (at(TokenKind::kMinus) && peek().glued && peek(1).glued);
    if (!joiner) break;
    text += advance().text;
    if (!global_atom(&text, &kind, &int_value)) return false;
    ++atoms;
  }
  value->text = std::move(text);
  if (atoms == 1) {
    value->kind = kind;
    value->int_value = int_value;
  } else {
    value->kind = GlobalValue::Kind::kComposite;
  }
  return true;
}

void Parser::global_param(Script* script) {
  const Token& name = advance();
  GlobalParam g;
  g.name = name.text;
  g.loc = name.loc;
  if (accept(TokenKind::kLBracket)) {  // cfg group instance: grp[1].var = value
    g.name += "[" + std::to_string(advance().int_value) + "]";
    advance();  // ']'
  }
  if (accept(TokenKind::kDot) && at(TokenKind::kIdent)) g.name += "." + advance().text;
  if (!accept(TokenKind::kAssign)) {
    error(peek().loc, "expected '=' after '" + g.name + "', found " + describe_token(peek()));
    sync_top();
    return;
  }
  GlobalValue v;
  if (!global_item(&v)) {
    sync_top();
    return;
  }
  g.values.push_back(std::move(v));
  bool list = g.name == "listen" || g.name == "alias";
  for (;;) {
    bool more = accept(TokenKind::kComma);
    if (!more && list && same_line(prev(), peek()) &&
        (at(TokenKind::kInt) || at(TokenKind::kString) || at(TokenKind::kIPv6) ||
         at(TokenKind::kLParen) || at(TokenKind::kStar) ||
         (at(TokenKind::kIdent) && !at_word("advertise") && !at_word("ADVERTISE") &&
          !at_word("name") && !at_word("virtual")))) {
      more = true;
    }
    if (!more) break;
    GlobalValue next;
    if (!global_item(&next)) {
      sync_top();
      return;
    }
    g.values.push_back(std::move(next));
  }
  while (same_line(prev(), peek()) && at(TokenKind::kIdent)) {
    const std::string& w = peek().text;
    if (w == "advertise" || w == "ADVERTISE") {
      advance();
      g.has_advertise = true;
      if (!global_item(&g.advertise)) {
        sync_top();
        return;
      }
    } else if (w == "virtual") {
      advance();
      g.is_virtual = true;
    } else if (w == "name" || w == "desc" || w == "descr" || w == "description") {
      advance();
      if (!at(TokenKind::kString)) {
        error(peek().loc, "expected a string after '" + w + "'");
        sync_top();
        return;
      }
      (w == "name" ? g.socket_name : g.description) = advance().text;
    } else {
      break;
    }
  }
  script->globals.push_back(std::move(g));
}

void Parser::modparam(Script* script) {
  const Token& kw = advance();
  ModParam m;
  m.loc = kw.loc;
  m.evaluate = kw.text == "modparamx";
  const char* usage = " in modparam(\"module\", \"parameter\", value)";
  auto fail = [&](const std::string& what) {
    error(peek().loc, "expected " + what + usage + ", found " + describe_token(peek()));
    sync_top();
  };
  if (!accept(TokenKind::kLParen)) return fail("'('");
  if (!at(TokenKind::kString)) return fail("the module name as a string");
  m.module = advance().text;
  if (!accept(TokenKind::kComma)) return fail("','");
  if (!at(TokenKind::kString)) return fail("the parameter name as a string");
  m.param = advance().text;
  if (!accept(TokenKind::kComma)) return fail("','");
  m.value_loc = peek().loc;
  if (at(TokenKind::kString)) {
    m.str_value = advance().text;
  } else if (at(TokenKind::kInt)) {
    m.is_int = true;
    m.int_value = advance().int_value;
  } else if (at(TokenKind::kMinus) && peek(1).kind == TokenKind::kInt) {
    advance();
    m.is_int = true;
    m.int_value = -advance().int_value;
  } else {
    return fail("a string or an integer value");
  }
  if (!accept(TokenKind::kRParen)) return fail("')'");
  script->modparams.push_back(std::move(m));
}

void Parser::loadmodule(Script* script) {
  const Token& kw = advance();
  if (!at(TokenKind::kString)) {
    error(peek().loc, "expected the module file name as a string after 'loadmodule', found " +
                          describe_token(peek()));
    sync_top();
    return;
  }
  script->modules.push_back({advance().text, kw.loc});
}

void Parser::loadpath(Script* script) {
  const Token& kw = advance();
  std::string word = kw.text;
  accept(TokenKind::kAssign);
  if (!at(TokenKind::kString)) {
    error(peek().loc,
          "expected a directory as a string after '" + word + "', found " + describe_token(peek()));
    sync_top();
    return;
  }
  script->load_paths.push_back({advance().text, kw.loc});
}

void Parser::flags_decl(Script* script) {
  const Token& kw = advance();
  bool avp = kw.text == "avpflags";
  for (;;) {
    const Token& t = peek();
    if (t.kind != TokenKind::kIdent && t.kind != TokenKind::kString) {
      error(t.loc, "expected a flag name, found " + describe_token(t));
      sync_top();
      return;
    }
    FlagDecl f;
    f.loc = t.loc;
    f.name = advance().text;
    f.avp_flag = avp;
    if (!avp && accept(TokenKind::kColon)) {
      if (!at(TokenKind::kInt)) {
        error(peek().loc, "expected a flag number after ':'");
        sync_top();
        return;
      }
      f.bit = static_cast<int>(advance().int_value);
    }
    script->flags.push_back(std::move(f));
    if (!accept(TokenKind::kComma)) return;
  }
}

void Parser::cfgengine(Script* script) {
  const Token& kw = advance();
  accept(TokenKind::kAssign);
  if (!at(TokenKind::kString)) {
    error(peek().loc, "expected the engine name as a string after 'cfgengine'");
    sync_top();
    return;
  }
  GlobalParam g;
  g.name = "cfgengine";
  g.loc = kw.loc;
  GlobalValue v;
  v.kind = GlobalValue::Kind::kString;
  v.loc = peek().loc;
  v.text = advance().text;
  g.values.push_back(std::move(v));
  script->globals.push_back(std::move(g));
}

}  // namespace strowger::proxy::script
