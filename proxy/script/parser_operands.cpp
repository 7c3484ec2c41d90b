// Operands: message keyword comparisons, myself, host names, IP literals, selects, sockets.
#include "proxy/script/parser_impl.h"

namespace strowger::proxy::script {
namespace {

bool decimal_octet(const Token& t) {
  if (t.kind != TokenKind::kInt || t.text.empty() || t.text.size() > 3) return false;
  for (char c : t.text) {
    if (c < '0' || c > '9') return false;
  }
  return t.int_value <= 255;
}

}  // namespace

bool field_word(std::string_view w, Field* f) {
  struct Entry {
    std::string_view word;
    Field field;
  };
  static constexpr Entry kFields[] = {
      {"method", Field::kMethod},
      {"uri", Field::kUri},
      {"status", Field::kStatus},
      {"from_uri", Field::kFromUri},
      {"to_uri", Field::kToUri},
      {"src_ip", Field::kSrcIp},
      {"src_port", Field::kSrcPort},
      {"dst_ip", Field::kDstIp},
      {"dst_port", Field::kDstPort},
      {"snd_ip", Field::kSndIp},
      {"snd_port", Field::kSndPort},
      {"snd_proto", Field::kSndProto},
      {"to_proto", Field::kSndProto},
      {"snd_af", Field::kSndAf},
      {"to_af", Field::kSndAf},
      {"to_ip", Field::kToIp},
      {"to_port", Field::kToPort},
      {"proto", Field::kProto},
      {"af", Field::kAf},
  };
  for (const auto& e : kFields) {
    if (e.word == w) {
      *f = e.field;
      return true;
    }
  }
  return false;
}

// A message keyword must be compared right away (method == "INVITE", src_ip == 10.0.0.0/8,
// uri == myself): Kamailio's exp_elem, an operand of its own.
ExprPtr Parser::field_comparison(Field field, SourceLoc loc) {
  enum class Ops { kString, kNumber, kEquality };
  Ops ops = Ops::kString;
  Allow rhs = Allow::kNone;
  switch (field) {
    case Field::kMethod:
      rhs = Allow::kName;
      break;
    case Field::kUri:
    case Field::kStatus:
    case Field::kFromUri:
    case Field::kToUri:
      rhs = Allow::kMyself;
      break;
    case Field::kSrcIp:
    case Field::kDstIp:
    case Field::kSndIp:
    case Field::kToIp:
      rhs = Allow::kHost;
      break;
    case Field::kProto:
    case Field::kSndProto:
      ops = Ops::kEquality;
      rhs = Allow::kName;
      break;
    default:
      ops = Ops::kNumber;
      break;
  }
  BinaryOp op;
  int prec;
  int width;
  bool ok = binary_op(&op, &prec, &width) && (prec == 8 || prec == 9);
  bool equality = op == BinaryOp::kEq || op == BinaryOp::kNe || op == BinaryOp::kStrEq ||
                  op == BinaryOp::kStrNe;
  if (ok && ops == Ops::kString)
    ok = equality || op == BinaryOp::kMatch || op == BinaryOp::kNotMatch;
  if (ok && ops == Ops::kEquality) ok = equality;
  if (ok && ops == Ops::kNumber) ok = equality || prec == 9;
  std::string name = to_string(field);
  if (!ok) {
    const char* example = ops == Ops::kNumber     ? " == 5060"
                          : ops == Ops::kEquality ? " == UDP"
                                                  : " == \"...\"";
    error(peek().loc, "'" + name + "' must be compared with " +
                          (ops == Ops::kNumber     ? std::string("==, !=, <, >, <= or >=")
                           : ops == Ops::kEquality ? std::string("== or !=")
                                                   : std::string("==, != or =~")) +
                          " (e.g. " + name + example + "), found " + describe_token(peek()));
    return nullptr;
  }
  SourceLoc op_loc = peek().loc;
  for (int i = 0; i < width; ++i) advance();
  allow_ = rhs;
  ExprPtr value = binary(9);
  allow_ = Allow::kNone;
  if (!value) return nullptr;
  auto lhs = make_expr(ExprKind::kField, loc);
  lhs->field = field;
  auto e = make_expr(ExprKind::kBinary, op_loc);
  e->binary_op = op;
  e->lhs = std::move(lhs);
  e->rhs = std::move(value);
  return e;
}

// myself == uri / myself != src_ip (Kamailio's MYSELF equalop uri_type|eip_op).
ExprPtr Parser::myself_comparison() {
  const Token& kw = advance();
  BinaryOp op;
  int prec;
  int width;
  if (!binary_op(&op, &prec, &width) || !(op == BinaryOp::kEq || op == BinaryOp::kNe ||
                                          op == BinaryOp::kStrEq || op == BinaryOp::kStrNe)) {
    error(kw.loc,
          "'myself' must be compared with uri, from_uri, to_uri, src_ip, dst_ip, snd_ip "
          "or to_ip (e.g. uri == myself)");
    return nullptr;
  }
  SourceLoc op_loc = peek().loc;
  advance();
  Field f;
  const Token& t = peek();
  if (t.kind != TokenKind::kIdent || !field_word(t.text, &f) ||
      !(f == Field::kUri || f == Field::kStatus || f == Field::kFromUri || f == Field::kToUri ||
        f == Field::kSrcIp || f == Field::kDstIp || f == Field::kSndIp || f == Field::kToIp)) {
    error(t.loc,
          "expected uri, from_uri, to_uri, src_ip, dst_ip, snd_ip or to_ip after "
          "'myself " +
              to_string(op) + "', found " + describe_token(t));
    return nullptr;
  }
  auto field = make_expr(ExprKind::kField, advance().loc);
  field->field = f;
  auto e = make_expr(ExprKind::kBinary, op_loc);
  e->binary_op = op;
  e->lhs = make_expr(ExprKind::kMyself, kw.loc);
  e->rhs = std::move(field);
  return e;
}

// name, or a host name such as sip.example.com / gw-1.example.com (no blanks around '-').
ExprPtr Parser::host_or_ident() {
  const Token& first = advance();
  auto e = make_expr(ExprKind::kIdent, first.loc);
  e->text = first.text;
  for (;;) {
    TokenKind nk = peek(1).kind;
    bool part = nk == TokenKind::kIdent || nk == TokenKind::kInt;
    if (at(TokenKind::kDot) && part) {
      advance();
      e->text += "." + advance().text;
    } else if (at(TokenKind::kMinus) && peek().glued && part && peek(1).glued) {
      advance();
      e->text += "-" + advance().text;
    } else {
      break;
    }
  }
  return e;
}

ExprPtr Parser::ip_literal() {
  const Token& t = peek();
  auto e = make_expr(ExprKind::kIp, t.loc);
  int max_prefix = 32;
  if (t.kind == TokenKind::kInt) {
    for (int i = 0; i < 4; ++i) {
      if (!decimal_octet(peek()) || (i < 3 && peek(1).kind != TokenKind::kDot)) {
        error(t.loc, "invalid IPv4 address");
        return nullptr;
      }
      e->text += advance().text;
      if (i < 3) e->text += advance().text;  // '.'
    }
  } else {
    bool bracket = accept(TokenKind::kLBracket);
    if (!at(TokenKind::kIPv6)) {
      error(peek().loc, "expected an IPv6 address, found " + describe_token(peek()));
      return nullptr;
    }
    e->text = advance().text;
    if (bracket && !accept(TokenKind::kRBracket)) {
      error(prev().end, "expected ']' after the IPv6 address");
      return nullptr;
    }
    max_prefix = 128;
  }
  if (at(TokenKind::kSlash) && peek(1).kind == TokenKind::kInt) {
    advance();
    if (peek(1).kind == TokenKind::kDot) {
      auto mask = ip_literal();
      if (!mask) return nullptr;
      e->ip_mask = mask->text;
    } else {
      const Token& bits = advance();
      if (bits.int_value < 0 || bits.int_value > max_prefix) {
        error(bits.loc, "invalid network prefix length /" + bits.text);
        return nullptr;
      }
      e->ip_prefix = static_cast<int>(bits.int_value);
    }
  }
  return e;
}

ExprPtr Parser::select() {
  SourceLoc loc = advance().loc;  // '@'
  auto e = make_expr(ExprKind::kSelect, loc);
  e->text = "@";
  if (!at(TokenKind::kIdent)) {
    error(peek().loc, "expected a select name after '@'");
    return nullptr;
  }
  e->text += advance().text;
  for (;;) {
    if (at(TokenKind::kDot) && peek(1).kind == TokenKind::kIdent) {
      advance();
      e->text += "." + advance().text;
    } else if (at(TokenKind::kLBracket)) {
      advance();
      const Token& idx = peek();
      if (idx.kind == TokenKind::kInt) {
        e->text += "[" + std::to_string(advance().int_value) + "]";
      } else if (idx.kind == TokenKind::kMinus && peek(1).kind == TokenKind::kInt) {
        advance();
        e->text += "[-" + std::to_string(advance().int_value) + "]";
      } else if (idx.kind == TokenKind::kString) {
        e->text += "[\"" + advance().text + "\"]";
      } else {
        error(idx.loc, "expected a number or a string in the select index");
        return nullptr;
      }
      if (!accept(TokenKind::kRBracket)) {
        error(prev().end, "expected ']' in the select");
        return nullptr;
      }
    } else {
      return e;
    }
  }
}

// Past a host at token offset k (name, dotted name or IPv4, glued '-' parts); k if none.
std::size_t Parser::skip_host_ahead(std::size_t k) const {
  auto part = [&](std::size_t i) {
    TokenKind kind = peek(i).kind;
    return kind == TokenKind::kIdent || kind == TokenKind::kInt;
  };
  if (!part(k)) return k;
  std::size_t i = k + 1;
  while ((peek(i).kind == TokenKind::kDot ||
          (peek(i).kind == TokenKind::kMinus && peek(i).glued && peek(i + 1).glued)) &&
         part(i + 1)) {
    i += 2;
  }
  return i;
}

// udp:10.0.0.1:5060, tcp:host, uri:host, *:5060 as arguments of core functions.
bool Parser::socket_literal_ahead() const {
  std::size_t k = at(TokenKind::kStar) ? 1 : skip_host_ahead(0);
  return k > 0 && peek(k).kind == TokenKind::kColon;
}

ExprPtr Parser::socket_literal() {
  auto e = make_expr(ExprKind::kIdent, peek().loc);
  for (;;) {
    if (at(TokenKind::kStar)) {
      e->text += advance().text;
    } else if (at(TokenKind::kIPv6)) {
      e->text += advance().text;
    } else if (at(TokenKind::kLBracket) && peek(1).kind == TokenKind::kIPv6 &&
               peek(2).kind == TokenKind::kRBracket) {
      advance();
      e->text += "[" + advance().text + "]";
      advance();
    } else {
      std::size_t end = skip_host_ahead(0);
      if (end == 0) {
        error(peek().loc, "expected a host, address or port, found " + describe_token(peek()));
        return nullptr;
      }
      while (end-- > 0) e->text += advance().text;
    }
    if (!accept(TokenKind::kColon)) return e;
    e->text += ":";
  }
}

}  // namespace strowger::proxy::script
