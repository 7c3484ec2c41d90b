// Expression compiler: operators with Kamailio's typing rules, regex matches, defined, casts.
#include <memory>

#include "proxy/script/engine/compile_env.h"
#include "proxy/script/engine/fields.h"

namespace strowger::proxy::script::engine {
namespace {

ExprFn constant(Value v) {
  return [v = std::move(v)](ExecutionContext&) { return v; };
}

// Kamailio: the type of the left operand decides; an int left side converts the right one.
bool compare(BinaryOp op, const Value& l, const Value& r) {
  if (l.is_null() || r.is_null()) {
    bool same = l.is_null() && r.is_null();
    if (op == BinaryOp::kEq || op == BinaryOp::kStrEq || op == BinaryOp::kIntEq) return same;
    if (op == BinaryOp::kNe || op == BinaryOp::kStrNe || op == BinaryOp::kIntNe) return !same;
    return false;
  }
  bool as_int = op == BinaryOp::kIntEq || op == BinaryOp::kIntNe ||
                (op != BinaryOp::kStrEq && op != BinaryOp::kStrNe && l.is_int());
  int c;
  if (as_int) {
    auto a = l.as_int();
    auto b = r.as_int();
    if (!a || !b) return op == BinaryOp::kNe || op == BinaryOp::kIntNe;  // not comparable
    c = *a < *b ? -1 : (*a > *b ? 1 : 0);
  } else {
    int k = l.to_str().compare(r.to_str());
    c = k < 0 ? -1 : (k > 0 ? 1 : 0);
  }
  switch (op) {
    case BinaryOp::kEq:
    case BinaryOp::kIntEq:
    case BinaryOp::kStrEq:
      return c == 0;
    case BinaryOp::kNe:
    case BinaryOp::kIntNe:
    case BinaryOp::kStrNe:
      return c != 0;
    case BinaryOp::kLt:
      return c < 0;
    case BinaryOp::kGt:
      return c > 0;
    case BinaryOp::kLe:
      return c <= 0;
    case BinaryOp::kGe:
      return c >= 0;
    default:
      return false;
  }
}

Value arithmetic(BinaryOp op, const Value& l, const Value& r, ExecutionContext& ctx) {
  if (op == BinaryOp::kAdd && l.is_str()) {
    std::string rs = r.to_str();
    if (l.s.size() + rs.size() > kMaxBuiltString) {
      ctx.host.log(kLogErr, "string longer than " + std::to_string(kMaxBuiltString) +
                                " bytes built by '+'; the result is $null");
      return Value::null();
    }
    return Value::of(l.s + rs);
  }
  std::int64_t a = l.to_int();
  std::int64_t b = r.to_int();
  switch (op) {
    case BinaryOp::kAdd:
      return Value::of(
          static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b)));
    case BinaryOp::kSub:
      return Value::of(
          static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b)));
    case BinaryOp::kMul:
      return Value::of(
          static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b)));
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
      if (b == 0 || (a == INT64_MIN && b == -1)) {
        ctx.host.log(kLogErr, "division by zero in the script; the result is 0");
        return Value::of(std::int64_t{0});
      }
      return Value::of(op == BinaryOp::kDiv ? a / b : a % b);
    case BinaryOp::kBitOr:
      return Value::of(a | b);
    case BinaryOp::kBitAnd:
      return Value::of(a & b);
    case BinaryOp::kBitXor:
      return Value::of(a ^ b);
    case BinaryOp::kShl:
      return Value::of(
          b < 0 || b > 63 ? 0 : static_cast<std::int64_t>(static_cast<std::uint64_t>(a) << b));
    case BinaryOp::kShr:
      return Value::of(b < 0 || b > 63 ? 0 : a >> b);
    default:
      return Value::null();
  }
}

std::optional<ExprFn> regex_match(CompileEnv& env, const Expr& e, ExprFn lhs) {
  bool negate = e.binary_op == BinaryOp::kNotMatch;
  if (e.rhs->kind == ExprKind::kString) {
    std::string err;
    std::shared_ptr<Regex> re = Regex::compile(e.rhs->text, Regex::kIgnoreCase, &err);
    if (!re) {
      env.error(e.rhs->loc, "bad regular expression: " + err);
      return std::nullopt;
    }
    return [lhs, re, negate](ExecutionContext& ctx) {
      Value l = lhs(ctx);
      bool m = !l.is_null() && re->search(l.to_str());
      return Value::of(std::int64_t{m != negate ? 1 : -1});
    };
  }
  // A regex held in a variable is compiled at each use (Kamailio allows it; it costs).
  auto rhs = compile_expr(env, *e.rhs);
  if (!rhs) return std::nullopt;
  return [lhs, rhs = *rhs, negate](ExecutionContext& ctx) {
    Value l = lhs(ctx);
    std::string err;
    auto re = Regex::compile(rhs(ctx).to_str(), Regex::kIgnoreCase, &err);
    if (!re) {
      ctx.host.log(kLogErr, "bad regular expression at run time: " + err);
      return Value::of(std::int64_t{-1});
    }
    bool m = !l.is_null() && re->search(l.to_str());
    return Value::of(std::int64_t{m != negate ? 1 : -1});
  };
}

std::optional<ExprFn> binary(CompileEnv& env, const Expr& e) {
  if (e.lhs->kind == ExprKind::kField || e.lhs->kind == ExprKind::kMyself ||
      e.rhs->kind == ExprKind::kMyself) {
    return compile_field_compare(env, e);
  }
  auto lhs = compile_expr(env, *e.lhs);
  if (!lhs) return std::nullopt;
  BinaryOp op = e.binary_op;
  if (op == BinaryOp::kMatch || op == BinaryOp::kNotMatch) return regex_match(env, e, *lhs);
  auto rhs = compile_expr(env, *e.rhs);
  if (!rhs) return std::nullopt;
  ExprFn l = std::move(*lhs);
  ExprFn r = std::move(*rhs);
  auto flag = [](bool b) { return Value::of(std::int64_t{b ? 1 : -1}); };
  switch (op) {
    case BinaryOp::kOr:
      return [l, r, flag](ExecutionContext& ctx) {
        if (l(ctx).truthy()) return flag(true);
        return flag(r(ctx).truthy());
      };
    case BinaryOp::kAnd:
      return [l, r, flag](ExecutionContext& ctx) {
        if (!l(ctx).truthy()) return flag(false);
        return flag(r(ctx).truthy());
      };
    case BinaryOp::kEq:
    case BinaryOp::kNe:
    case BinaryOp::kIntEq:
    case BinaryOp::kIntNe:
    case BinaryOp::kStrEq:
    case BinaryOp::kStrNe:
    case BinaryOp::kLt:
    case BinaryOp::kGt:
    case BinaryOp::kLe:
    case BinaryOp::kGe:
      return [l, r, op, flag](ExecutionContext& ctx) {
        Value a = l(ctx);
        Value b = r(ctx);
        return flag(compare(op, a, b));
      };
    default:
      return [l, r, op](ExecutionContext& ctx) {
        Value a = l(ctx);
        Value b = r(ctx);
        return arithmetic(op, a, b, ctx);
      };
  }
}

std::optional<ExprFn> unary(CompileEnv& env, const Expr& e) {
  if (e.unary_op == UnaryOp::kDefined) {
    if (e.lhs->kind != ExprKind::kPv) {
      env.error(e.loc, "defined takes a pseudo-variable");
      return std::nullopt;
    }
  }
  auto operand = compile_expr(env, *e.lhs);
  if (!operand) return std::nullopt;
  ExprFn x = std::move(*operand);
  switch (e.unary_op) {
    case UnaryOp::kNot:
      return
          [x](ExecutionContext& ctx) { return Value::of(std::int64_t{x(ctx).truthy() ? -1 : 1}); };
    case UnaryOp::kBitNot:
      return [x](ExecutionContext& ctx) { return Value::of(~x(ctx).to_int()); };
    case UnaryOp::kNeg:
      return [x](ExecutionContext& ctx) {
        return Value::of(
            static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(x(ctx).to_int())));
      };
    case UnaryOp::kDefined:
      return
          [x](ExecutionContext& ctx) { return Value::of(std::int64_t{x(ctx).is_null() ? -1 : 1}); };
    case UnaryOp::kStrLen:
      return [x](ExecutionContext& ctx) {
        return Value::of(static_cast<std::int64_t>(x(ctx).to_str().size()));
      };
    case UnaryOp::kStrEmpty:
      return [x](ExecutionContext& ctx) {
        return Value::of(std::int64_t{x(ctx).to_str().empty() ? 1 : -1});
      };
    case UnaryOp::kIntCast:
      return [x](ExecutionContext& ctx) { return Value::of(x(ctx).to_int()); };
    case UnaryOp::kStrCast:
      return [x](ExecutionContext& ctx) { return Value::of(x(ctx).to_str()); };
  }
  return std::nullopt;
}

}  // namespace

std::optional<ExprFn> compile_expr(CompileEnv& env, const Expr& e) {
  switch (e.kind) {
    case ExprKind::kInt:
      return constant(Value::of(e.int_value));
    case ExprKind::kString:
      // Strings in expressions are literal, as in Kamailio (only function arguments are formats).
      return constant(Value::of(e.text));
    case ExprKind::kPv: {
      auto pv = compile_pv(env, *e.pv);
      if (!pv) return std::nullopt;
      return pv->get;
    }
    case ExprKind::kSelect: {
      auto sel = compile_select(env, e.text, e.loc);
      if (!sel) return std::nullopt;
      return sel->get;
    }
    case ExprKind::kIdent:
      env.error(e.loc, "'" + e.text + "' is not a value here (quote it, or #!define it)");
      return std::nullopt;
    case ExprKind::kIp:
      env.error(e.loc, "an address can only be compared with src_ip, dst_ip, ...");
      return std::nullopt;
    case ExprKind::kField:
    case ExprKind::kMyself:
      env.error(e.loc, "'" + to_string(e) + "' must be compared (==, !=, =~)");
      return std::nullopt;
    case ExprKind::kCall:
      return compile_call(env, e);
    case ExprKind::kUnary:
      return unary(env, e);
    case ExprKind::kBinary:
      return binary(env, e);
  }
  return std::nullopt;
}

std::optional<ExprFn> compile_format(CompileEnv& env, const std::string& text, SourceLoc loc) {
  std::vector<FormatPart> parts;
  std::string err;
  std::size_t off = 0;
  if (!parse_format(text, &parts, &err, &off)) {
    env.error(loc, "in \"" + text + "\" at offset " + std::to_string(off) + ": " + err);
    return std::nullopt;
  }
  if (parts.empty()) return constant(Value::of(std::string()));
  if (parts.size() == 1 && !parts[0].pv) return constant(Value::of(parts[0].text));
  struct Piece {
    std::string text;
    ExprFn pv;
  };
  std::vector<Piece> pieces;
  for (const auto& p : parts) {
    Piece piece{p.text, nullptr};
    if (p.pv) {
      auto pv = compile_pv(env, *p.pv);
      if (!pv) return std::nullopt;
      piece.pv = pv->get;
    }
    pieces.push_back(std::move(piece));
  }
  if (pieces.size() == 1 && pieces[0].text.empty()) {
    // A lone "$var(x)" keeps its type (an int stays an int).
    return pieces[0].pv;
  }
  return [pieces = std::move(pieces)](ExecutionContext& ctx) {
    std::string out;
    for (const auto& p : pieces) {
      out += p.text;
      if (p.pv) {
        Value v = p.pv(ctx);
        out += v.is_null() ? "<null>" : v.to_str();  // as Kamailio prints $null in formats
      }
      if (out.size() > kMaxBuiltString) {
        ctx.host.log(kLogErr, "string longer than " + std::to_string(kMaxBuiltString) +
                                  " bytes built by a format; the result is $null");
        return Value::null();
      }
    }
    return Value::of(std::move(out));
  };
}

}  // namespace strowger::proxy::script::engine
