// Expression parsing: Kamailio's operator precedence, message keywords, calls, IPs, pvars.
#include "proxy/script/parser_impl.h"

namespace strowger::proxy::script {
namespace {

// Core commands whose arguments may be bare names, hosts, addresses or sockets (cfg.y's cmd).
bool core_command_with_names(std::string_view n) {
  return n == "forward" || n == "forward_udp" || n == "forward_tcp" || n == "forward_tls" ||
         n == "forward_sctp" || n == "send" || n == "send_tcp" || n == "setflag" ||
         n == "resetflag" || n == "isflagset" || n == "setavpflag" || n == "resetavpflag" ||
         n == "isavpflagset" || n == "set_advertised_address" || n == "set_advertised_port" ||
         n == "force_send_socket" || n == "udp_mtu_try_proto";
}

}  // namespace

bool Parser::binary_op(BinaryOp* op, int* prec, int* width) const {
  struct Entry {
    TokenKind kind;
    std::string_view word;  // for TokenKind::kIdent
    BinaryOp op;
    int prec;
  };
  static constexpr Entry kOps[] = {
      {TokenKind::kOrOr, "", BinaryOp::kOr, 1},
      {TokenKind::kIdent, "or", BinaryOp::kOr, 1},
      {TokenKind::kAndAnd, "", BinaryOp::kAnd, 2},
      {TokenKind::kIdent, "and", BinaryOp::kAnd, 2},
      {TokenKind::kPipe, "", BinaryOp::kBitOr, 3},
      {TokenKind::kAmp, "", BinaryOp::kBitAnd, 4},
      {TokenKind::kCaret, "", BinaryOp::kBitXor, 5},
      {TokenKind::kShl, "", BinaryOp::kShl, 6},
      {TokenKind::kShr, "", BinaryOp::kShr, 7},
      {TokenKind::kEq, "", BinaryOp::kEq, 8},
      {TokenKind::kNe, "", BinaryOp::kNe, 8},
      {TokenKind::kMatch, "", BinaryOp::kMatch, 8},
      {TokenKind::kIdent, "eq", BinaryOp::kStrEq, 8},
      {TokenKind::kIdent, "ne", BinaryOp::kStrNe, 8},
      {TokenKind::kIdent, "ieq", BinaryOp::kIntEq, 8},
      {TokenKind::kIdent, "ine", BinaryOp::kIntNe, 8},
      {TokenKind::kLt, "", BinaryOp::kLt, 9},
      {TokenKind::kGt, "", BinaryOp::kGt, 9},
      {TokenKind::kLe, "", BinaryOp::kLe, 9},
      {TokenKind::kGe, "", BinaryOp::kGe, 9},
      {TokenKind::kPlus, "", BinaryOp::kAdd, 10},
      {TokenKind::kMinus, "", BinaryOp::kSub, 10},
      {TokenKind::kStar, "", BinaryOp::kMul, 11},
      {TokenKind::kSlash, "", BinaryOp::kDiv, 11},
      {TokenKind::kPercent, "", BinaryOp::kMod, 11},
      {TokenKind::kIdent, "mod", BinaryOp::kMod, 11},
  };
  const Token& t = peek();
  *width = 1;
  if (t.kind == TokenKind::kNot && peek(1).kind == TokenKind::kTilde && peek(1).glued) {
    *op = BinaryOp::kNotMatch;  // "!~", a Strowger extension
    *prec = 8;
    *width = 2;
    return true;
  }
  for (const auto& e : kOps) {
    if (e.kind == t.kind && (t.kind != TokenKind::kIdent || e.word == t.text)) {
      *op = e.op;
      *prec = e.prec;
      return true;
    }
  }
  return false;
}

bool Parser::can_start_expression(const Token& t) const {
  switch (t.kind) {
    case TokenKind::kInt:
    case TokenKind::kIPv6:
    case TokenKind::kString:
    case TokenKind::kPVar:
    case TokenKind::kAt:
    case TokenKind::kLParen:
    case TokenKind::kNot:
    case TokenKind::kTilde:
    case TokenKind::kMinus:
    case TokenKind::kIntCast:
    case TokenKind::kStrCast:
    case TokenKind::kLBracket:
      return true;
    case TokenKind::kIdent:
      return !is_statement_keyword(t.text);
    default:
      return false;
  }
}

ExprPtr Parser::expression() {
  return binary(1);
}

ExprPtr Parser::binary(int min_prec) {
  ExprPtr lhs = unary();
  if (!lhs) return nullptr;
  BinaryOp op;
  int prec;
  int width;
  while (!stop() && binary_op(&op, &prec, &width) && prec >= min_prec) {
    SourceLoc op_loc = peek().loc;
    for (int i = 0; i < width; ++i) advance();
    ExprPtr rhs = binary(prec + 1);
    if (!rhs) return nullptr;
    auto e = make_expr(ExprKind::kBinary, op_loc);
    e->binary_op = op;
    e->lhs = std::move(lhs);
    e->rhs = std::move(rhs);
    lhs = std::move(e);
  }
  return lhs;
}

ExprPtr Parser::unary() {
  DepthGuard guard(this);
  if (!guard) return nullptr;
  const Token& t = peek();
  UnaryOp op;
  switch (t.kind) {
    case TokenKind::kNot:
      op = UnaryOp::kNot;
      break;
    case TokenKind::kTilde:
      op = UnaryOp::kBitNot;
      break;
    case TokenKind::kIntCast:
      op = UnaryOp::kIntCast;
      break;
    case TokenKind::kStrCast:
      op = UnaryOp::kStrCast;
      break;
    case TokenKind::kMinus:
      if (peek(1).kind == TokenKind::kInt && peek(2).kind != TokenKind::kDot) {
        allow_ = Allow::kNone;
        SourceLoc loc = advance().loc;
        const Token& n = advance();
        auto e = make_expr(ExprKind::kInt, loc);
        e->int_value = -n.int_value;
        return e;
      }
      op = UnaryOp::kNeg;
      break;
    case TokenKind::kIdent:
      if (t.text == "not") {
        op = UnaryOp::kNot;
      } else if (t.text == "defined") {
        op = UnaryOp::kDefined;
      } else {
        return primary();
      }
      break;
    default:
      return primary();
  }
  allow_ = Allow::kNone;  // names and addresses must come first, not after an operator
  SourceLoc loc = advance().loc;
  ExprPtr operand = unary();
  if (!operand) return nullptr;
  auto e = make_expr(ExprKind::kUnary, loc);
  e->unary_op = op;
  e->lhs = std::move(operand);
  return e;
}

std::unique_ptr<PvRef> Parser::pv_from_token(const Token& t) {
  auto pv = std::make_unique<PvRef>();
  std::string err;
  std::size_t used = parse_pv(t.text, pv.get(), &err);
  if (used == 0 || used != t.text.size()) {
    error(t.loc, "invalid pseudo-variable " + t.text + ": " +
                     (err.empty() ? std::string("unexpected text after the name") : err));
    return nullptr;
  }
  pv->loc = t.loc;
  return pv;
}

ExprPtr Parser::primary() {
  Allow allow = allow_;
  allow_ = Allow::kNone;
  bool host_ok = allow == Allow::kHost || allow == Allow::kArgument;
  const Token& t = peek();
  switch (t.kind) {
    case TokenKind::kInt:
      if (peek(1).kind != TokenKind::kDot) {
        auto e = make_expr(ExprKind::kInt, advance().loc);
        e->int_value = t.int_value;
        return e;
      }
      [[fallthrough]];
    case TokenKind::kIPv6:
      if (!host_ok) {
        error(t.loc,
              "an IP address is only valid after src_ip, dst_ip, snd_ip or to_ip, or as an "
              "argument of forward() and similar core commands; quote it (\"...\") otherwise");
        return nullptr;
      }
      return ip_literal();
    case TokenKind::kLBracket:
      if (host_ok && peek(1).kind == TokenKind::kIPv6) return ip_literal();
      break;
    case TokenKind::kString: {
      auto e = make_expr(ExprKind::kString, t.loc);
      e->text = advance().text;
      return e;
    }
    case TokenKind::kPVar: {
      const Token& pt = advance();
      auto pv = pv_from_token(pt);
      if (!pv) return nullptr;
      auto e = make_expr(ExprKind::kPv, pt.loc);
      e->pv = std::move(pv);
      return e;
    }
    case TokenKind::kAt:
      return select();
    case TokenKind::kLParen: {
      SourceLoc open = advance().loc;
      ExprPtr e = expression();
      if (!e) return nullptr;
      if (!accept(TokenKind::kRParen)) {
        error(prev().end, "expected ')' to close the '(' at " + where(open) + ", found " +
                              describe_token(peek()));
        return nullptr;
      }
      return e;
    }
    case TokenKind::kIdent: {
      const std::string& w = t.text;
      if (peek(1).kind == TokenKind::kLParen && w != "strlen" && w != "strempty") {
        const Token& name = advance();
        return call(name);
      }
      if (w == "myself") {
        if (allow == Allow::kHost || allow == Allow::kMyself) {
          return make_expr(ExprKind::kMyself, advance().loc);
        }
        return myself_comparison();
      }
      Field f;
      if (w == "msg" && peek(1).kind == TokenKind::kColon && peek(1).glued &&
          peek(2).kind == TokenKind::kIdent && peek(2).text == "len" && peek(2).glued) {
        SourceLoc loc = advance().loc;
        advance();
        advance();
        return field_comparison(Field::kMsgLen, loc);
      }
      if (field_word(w, &f)) return field_comparison(f, advance().loc);
      if (w == "strlen" || w == "strempty") {
        SourceLoc loc = advance().loc;
        if (!accept(TokenKind::kLParen)) {
          error(prev().end, "expected '(' after " + w);
          return nullptr;
        }
        ExprPtr arg = expression();
        if (!arg) return nullptr;
        if (!accept(TokenKind::kRParen)) {
          error(prev().end, "expected ')' after the argument of " + w);
          return nullptr;
        }
        auto e = make_expr(ExprKind::kUnary, loc);
        e->unary_op = w == "strlen" ? UnaryOp::kStrLen : UnaryOp::kStrEmpty;
        e->lhs = std::move(arg);
        return e;
      }
      if (is_statement_keyword(w)) {
        error(t.loc, "expected an expression, found the keyword '" + w + "'");
        return nullptr;
      }
      if (allow == Allow::kName || host_ok) return host_or_ident();
      error(t.loc, "'" + w + "' is not a value: use a string (\"" + w +
                       "\"), a pseudo-variable, or #!define it");
      return nullptr;
    }
    default:
      break;
  }
  error(t.loc, "expected an expression, found " + describe_token(t));
  return nullptr;
}

ExprPtr Parser::call(const Token& name) {
  auto e = make_expr(ExprKind::kCall, name.loc);
  e->text = name.text;
  bool core = core_command_with_names(name.text);
  SourceLoc open = advance().loc;  // '('
  if (accept(TokenKind::kRParen)) return e;
  for (;;) {
    ExprPtr arg;
    if (name.text == "route" && (at(TokenKind::kIdent) || at(TokenKind::kInt)) &&
        peek(1).kind == TokenKind::kRParen) {
      const Token& r = advance();
      arg = make_expr(ExprKind::kIdent, r.loc);
      arg->text = r.text;  // route(NAME): the route name; route(1) names route[1]
    } else if (core) {
      allow_ = Allow::kArgument;
      arg = socket_literal_ahead() ? socket_literal() : expression();
    } else {
      arg = expression();
    }
    allow_ = Allow::kNone;
    if (!arg) {
      skip_to_close_paren();
      return nullptr;
    }
    e->args.push_back(std::move(arg));
    if (accept(TokenKind::kComma)) continue;
    if (accept(TokenKind::kRParen)) return e;
    error(prev().end, "expected ',' or ')' in the arguments of '" + name.text + "' (opened at " +
                          where(open) + "), found " + describe_token(peek()));
    skip_to_close_paren();
    return nullptr;
  }
}

void Parser::skip_to_close_paren() {
  int depth = 0;
  while (!at(TokenKind::kEnd)) {
    TokenKind k = peek().kind;
    if (depth == 0 &&
        (k == TokenKind::kSemicolon || k == TokenKind::kLBrace || k == TokenKind::kRBrace)) {
      return;
    }
    advance();
    if (k == TokenKind::kLParen) ++depth;
    if (k == TokenKind::kRParen && --depth < 0) return;
  }
}

}  // namespace strowger::proxy::script
