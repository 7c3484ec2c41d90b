// Statements: blocks, if/switch/while, return/exit/drop/break, assignments and calls.
#include "proxy/script/parser_impl.h"

namespace strowger::proxy::script {
namespace {

StmtPtr make_stmt(StmtKind kind, SourceLoc loc) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->loc = loc;
  return s;
}

// Commands Kamailio accepts without parentheses.
bool paren_less_command(std::string_view name) {
  return name == "force_rport" || name == "add_rport" || name == "add_local_rport" ||
         name == "force_tcp_alias" || name == "add_tcp_alias" || name == "set_forward_no_connect" ||
         name == "set_reply_no_connect" || name == "set_forward_close" ||
         name == "set_reply_close" || name == "revert_uri";
}

}  // namespace

std::vector<StmtPtr> Parser::block_body(const Token& open) {
  std::vector<StmtPtr> body;
  SourceLoc open_loc = open.loc;
  while (!stop() && !unwind_) {
    if (accept(TokenKind::kRBrace)) return body;
    if (at(TokenKind::kEnd)) {
      error(peek().loc, "missing '}' for the '{' at " + where(open_loc));
      return body;
    }
    if (top_level_start()) {
      error(peek().loc,
            "missing '}' for the '{' at " + where(open_loc) + " before '" + peek().text + "'");
      unwind_ = true;
      return body;
    }
    std::size_t before = pos_;
    if (auto s = statement()) body.push_back(std::move(s));
    if (pos_ == before && !stop() && !unwind_) advance();  // always make progress
  }
  return body;
}

std::vector<StmtPtr> Parser::body_statement() {
  std::vector<StmtPtr> body;
  if (at(TokenKind::kEnd) || top_level_start()) {
    error(peek().loc, "expected a statement, found " + describe_token(peek()));
    return body;
  }
  StmtPtr s = statement();
  if (!s) return body;
  if (s->kind == StmtKind::kBlock) return std::move(s->body);
  body.push_back(std::move(s));
  return body;
}

StmtPtr Parser::statement() {
  DepthGuard guard(this);
  if (!guard) return nullptr;
  const Token& t = peek();
  switch (t.kind) {
    case TokenKind::kSemicolon:
      advance();
      return nullptr;
    case TokenKind::kLBrace: {
      const Token& open = advance();
      auto s = make_stmt(StmtKind::kBlock, open.loc);
      s->body = block_body(open);
      return s;
    }
    case TokenKind::kPVar:
      return assignment();
    case TokenKind::kIdent: {
      const std::string& w = t.text;
      if (w == "if") return if_stmt();
      if (w == "switch") return switch_stmt();
      if (w == "while") return while_stmt();
      if (w == "return") return exit_like(StmtKind::kReturn);
      if (w == "exit") return exit_like(StmtKind::kExit);
      if (w == "drop") return exit_like(StmtKind::kDrop);
      if (w == "break") {
        auto s = make_stmt(StmtKind::kBreak, advance().loc);
        expect_semicolon("after 'break'");
        return s;
      }
      if (w == "else") {
        error(t.loc, "'else' without a matching 'if'");
        advance();
        sync_statement();
        return nullptr;
      }
      if (w == "case" || w == "default") {
        error(t.loc, "'" + w + "' outside of a switch");
        advance();
        sync_statement();
        return nullptr;
      }
      return call_stmt();
    }
    default:
      error(t.loc, "expected a statement, found " + describe_token(t));
      sync_statement();
      return nullptr;
  }
}

StmtPtr Parser::if_stmt() {
  auto s = make_stmt(StmtKind::kIf, advance().loc);
  s->expr = expression();
  if (!s->expr) {
    sync_statement();
    return nullptr;
  }
  s->body = body_statement();
  if (at_word("else")) {
    advance();
    s->has_else = true;
    s->else_body = body_statement();
  }
  return s;
}

StmtPtr Parser::while_stmt() {
  auto s = make_stmt(StmtKind::kWhile, advance().loc);
  s->expr = expression();
  if (!s->expr) {
    sync_statement();
    return nullptr;
  }
  s->body = body_statement();
  return s;
}

StmtPtr Parser::switch_stmt() {
  auto s = make_stmt(StmtKind::kSwitch, advance().loc);
  s->expr = expression();
  if (!s->expr) {
    sync_statement();
    return nullptr;
  }
  if (!at(TokenKind::kLBrace)) {
    error(prev().end, "expected '{' after the switch expression, found " + describe_token(peek()));
    sync_statement();
    return nullptr;
  }
  const Token& open = advance();
  SourceLoc open_loc = open.loc;
  SourceLoc default_loc;
  while (!stop() && !unwind_) {
    if (accept(TokenKind::kRBrace)) return s;
    if (at(TokenKind::kEnd) || top_level_start()) {
      error(peek().loc, "missing '}' for the switch body opened at " + where(open_loc));
      unwind_ = !at(TokenKind::kEnd);
      return s;
    }
    if (at_word("case") || at_word("default")) {
      SwitchCase c;
      bool is_default = at_word("default");
      c.loc = advance().loc;
      c.is_default = is_default;
      if (is_default) {
        if (default_loc.valid()) {
          error(c.loc, "second 'default' in switch (the first is at " + where(default_loc) + ")");
        }
        default_loc = c.loc;
      } else {
        c.is_regex = accept(TokenKind::kSlash);
        c.label = expression();
        if (!c.label) {
          while (!at(TokenKind::kColon) && !at(TokenKind::kRBrace) && !at(TokenKind::kEnd)) {
            advance();
          }
        }
      }
      if (!accept(TokenKind::kColon)) {
        error(prev().end, std::string("expected ':' after ") +
                              (is_default ? "'default'" : "the case label") + ", found " +
                              describe_token(peek()));
      }
      c.body = case_body();
      s->cases.push_back(std::move(c));
      continue;
    }
    error(peek().loc,
          "expected 'case' or 'default' in the switch body, found " + describe_token(peek()));
    std::size_t before = pos_;
    sync_statement();
    if (pos_ == before) advance();
  }
  return s;
}

std::vector<StmtPtr> Parser::case_body() {
  std::vector<StmtPtr> body;
  while (!stop() && !unwind_ && !at_word("case") && !at_word("default") &&
         !at(TokenKind::kRBrace) && !at(TokenKind::kEnd) && !top_level_start()) {
    std::size_t before = pos_;
    if (auto st = statement()) body.push_back(std::move(st));
    if (pos_ == before && !stop()) advance();
  }
  return body;
}

StmtPtr Parser::exit_like(StmtKind kind) {
  const Token& kw = advance();
  std::string word = kw.text;
  auto s = make_stmt(kind, kw.loc);
  if (at(TokenKind::kLParen) && peek(1).kind == TokenKind::kRParen) {
    advance();
    advance();  // return() is return
  } else if (!at(TokenKind::kSemicolon) && can_start_expression(peek())) {
    s->expr = expression();
    if (!s->expr) {
      sync_statement();
      return nullptr;
    }
  }
  expect_semicolon(("after '" + word + "'").c_str());
  return s;
}

StmtPtr Parser::assignment() {
  const Token& pv_token = advance();
  auto target = pv_from_token(pv_token);
  if (!target) {
    sync_statement();
    return nullptr;
  }
  auto s = make_stmt(StmtKind::kAssign, pv_token.loc);
  if (!target->transforms.empty()) {
    error(pv_token.loc, "cannot assign to " + pv_token.text + ": it has transformations");
  }
  if (accept(TokenKind::kAssign)) {
    s->assign_op = AssignOp::kSet;
  } else if (accept(TokenKind::kPlusAssign)) {
    s->assign_op = AssignOp::kAdd;
  } else {
    error(pv_token.end,
          "expected '=' after " + pv_token.text + " (a pseudo-variable alone is not a statement)");
    sync_statement();
    return nullptr;
  }
  s->target = std::move(target);
  s->expr = expression();
  if (!s->expr) {
    sync_statement();
    return nullptr;
  }
  expect_semicolon("after the assignment");
  return s;
}

StmtPtr Parser::call_stmt() {
  const Token& name = peek();
  if (peek(1).kind == TokenKind::kAssign || peek(1).kind == TokenKind::kPlusAssign) {
    error(name.loc, "cannot assign to '" + name.text +
                        "': only pseudo-variables ($var(x), $avp(x), $ru, ...) can be assigned");
    sync_statement();
    return nullptr;
  }
  ExprPtr c;
  if (peek(1).kind == TokenKind::kLParen) {
    const Token& name_token = advance();
    c = call(name_token);
    if (!c) {
      sync_statement();
      return nullptr;
    }
  } else if (paren_less_command(name.text)) {
    const Token& t = advance();
    c = std::make_unique<Expr>();
    c->kind = ExprKind::kCall;
    c->loc = t.loc;
    c->text = t.text;
  } else {
    error(name.end, "expected '(' after the function name '" + name.text + "', found " +
                        describe_token(peek(1)));
    advance();
    sync_statement();
    return nullptr;
  }
  auto s = make_stmt(StmtKind::kExpr, c->loc);
  s->expr = std::move(c);
  expect_semicolon("after the function call");
  return s;
}

bool Parser::expect_semicolon(const char* after) {
  if (accept(TokenKind::kSemicolon)) return true;
  error(prev().end, std::string("expected ';' ") + after + ", found " + describe_token(peek()));
  // Missing at a line end: assume it and go on; otherwise skip the rest of the statement.
  if (peek().loc.line == prev().end.line && peek().loc.file == prev().end.file &&
      !at(TokenKind::kRBrace)) {
    sync_statement();
  }
  return false;
}

void Parser::sync_statement() {
  int depth = 0;
  while (!at(TokenKind::kEnd)) {
    TokenKind k = peek().kind;
    if (depth == 0) {
      if (k == TokenKind::kSemicolon) {
        advance();
        return;
      }
      if (k == TokenKind::kRBrace || top_level_start()) return;
    }
    advance();
    if (k == TokenKind::kLBrace) ++depth;
    if (k == TokenKind::kRBrace && --depth == 0) return;  // a skipped block ends the statement
  }
}

}  // namespace strowger::proxy::script
