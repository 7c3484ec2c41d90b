// Message keyword comparisons, compiled once: addresses and networks pre-parsed, regexes compiled.
#include "proxy/script/engine/fields.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace strowger::proxy::script::engine {
namespace {

struct Network {
  int af = AF_INET;
  std::array<unsigned char, 16> addr{};
  int prefix = 0;  // bits

  bool contains(const std::string& ip) const {
    std::array<unsigned char, 16> a{};
    std::string bare = ip;
    if (!bare.empty() && bare.front() == '[') bare = bare.substr(1, bare.size() - 2);
    if (inet_pton(af, bare.c_str(), a.data()) != 1) return false;
    int full = prefix / 8;
    if (std::memcmp(a.data(), addr.data(), static_cast<std::size_t>(full)) != 0) return false;
    int rest = prefix % 8;
    if (rest == 0) return true;
    unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[full] & mask) == (addr[full] & mask);
  }
};

std::optional<Network> parse_network(const Expr& e, std::string* err) {
  Network n;
  std::string text = e.text;
  if (!text.empty() && text.front() == '[') text = text.substr(1, text.size() - 2);
  n.af = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(n.af, text.c_str(), n.addr.data()) != 1) {
    *err = "bad address '" + e.text + "'";
    return std::nullopt;
  }
  int bits = n.af == AF_INET ? 32 : 128;
  n.prefix = bits;
  if (e.ip_prefix >= 0) {
    if (e.ip_prefix > bits) {
      *err = "prefix /" + std::to_string(e.ip_prefix) + " is too long";
      return std::nullopt;
    }
    n.prefix = e.ip_prefix;
  } else if (!e.ip_mask.empty()) {
    std::array<unsigned char, 16> m{};
    if (n.af != AF_INET || inet_pton(AF_INET, e.ip_mask.c_str(), m.data()) != 1) {
      *err = "bad netmask '" + e.ip_mask + "'";
      return std::nullopt;
    }
    std::uint32_t mask = (std::uint32_t{m[0]} << 24) | (std::uint32_t{m[1]} << 16) |
                         (std::uint32_t{m[2]} << 8) | m[3];
    int p = 0;
    while (p < 32 && (mask & (0x80000000u >> p))) p++;
    if (p < 32 && (mask << p) != 0) {
      *err = "netmask '" + e.ip_mask + "' is not contiguous";
      return std::nullopt;
    }
    n.prefix = p;
  }
  return n;
}

// The value of a keyword for the current message.
ExprFn field_getter(Field f) {
  switch (f) {
    case Field::kMethod:
      return [](ExecutionContext& ctx) { return Value::of(ctx.msg().method_name()); };
    case Field::kUri:
    case Field::kStatus:
      return [](ExecutionContext& ctx) {
        auto& m = ctx.msg();
        if (m.is_request()) return Value::of(m.request_uri().to_string());
        return Value::of(std::to_string(m.status()));
      };
    case Field::kFromUri:
      return [](ExecutionContext& ctx) {
        auto u = ctx.msg().from_uri();
        return u ? Value::of(u->to_string()) : Value::null();
      };
    case Field::kToUri:
      return [](ExecutionContext& ctx) {
        auto u = ctx.msg().to_uri();
        return u ? Value::of(u->to_string()) : Value::null();
      };
    case Field::kSrcIp:
      return [](ExecutionContext& ctx) { return Value::of(ctx.host.source().ip); };
    case Field::kSrcPort:
      return [](ExecutionContext& ctx) { return Value::of(std::int64_t{ctx.host.source().port}); };
    case Field::kDstIp:
      return [](ExecutionContext& ctx) { return Value::of(ctx.host.local().ip); };
    case Field::kDstPort:
      return [](ExecutionContext& ctx) { return Value::of(std::int64_t{ctx.host.local().port}); };
    case Field::kProto:
      return [](ExecutionContext& ctx) { return Value::of(ctx.host.source().proto); };
    case Field::kAf:
      return [](ExecutionContext& ctx) {
        bool v6 = ctx.host.source().ip.find(':') != std::string::npos;
        return Value::of(std::int64_t{v6 ? 10 : 2});
      };
    case Field::kMsgLen:
      return [](ExecutionContext& ctx) {
        return Value::of(static_cast<std::int64_t>(ctx.msg().wire().size()));
      };
    default:
      return nullptr;  // onsend_route keywords
  }
}

bool is_address_field(Field f) {
  return f == Field::kSrcIp || f == Field::kDstIp;
}
bool is_int_field(Field f) {
  return f == Field::kSrcPort || f == Field::kDstPort || f == Field::kAf || f == Field::kMsgLen;
}

ExprFn result(ExprFn test, bool negate) {
  return [test = std::move(test), negate](ExecutionContext& ctx) {
    bool b = test(ctx).i > 0;
    return Value::of(std::int64_t{b != negate ? 1 : -1});
  };
}

}  // namespace

bool uri_is_myself(ExecutionContext& ctx, const std::string& text) {
  if (text.find(':') != std::string::npos && text.find('.') != std::string::npos &&
      text.rfind("sip", 0) != 0 && text.rfind("tel", 0) != 0 && text.front() != '[') {
    // "host:port" without scheme
    auto colon = text.rfind(':');
    auto port = parse_int(std::string_view(text).substr(colon + 1));
    return ctx.host.is_myself(text.substr(0, colon), static_cast<std::uint16_t>(port.value_or(0)));
  }
  auto u = sip::Uri::parse(text);
  if (u && !u->host.empty()) return ctx.host.is_myself(u->host_bare(), u->port);
  return ctx.host.is_myself(text, 0);
}

std::optional<ExprFn> compile_field_compare(CompileEnv& env, const Expr& e) {
  // myself == uri is uri == myself.
  const Expr* field = e.lhs.get();
  const Expr* other = e.rhs.get();
  if (field->kind == ExprKind::kMyself) std::swap(field, other);
  BinaryOp op = e.binary_op;
  bool negate = op == BinaryOp::kNe || op == BinaryOp::kNotMatch || op == BinaryOp::kStrNe ||
                op == BinaryOp::kIntNe;
  ExprFn get;
  Field f = Field::kMethod;
  if (field->kind == ExprKind::kField) {
    f = field->field;
    get = field_getter(f);
    if (!get) {
      env.error(field->loc, "'" + to_string(f) +
                                "' is only known in onsend_route, which "
                                "Strowger does not have");
      return std::nullopt;
    }
  } else {
    auto g = compile_expr(env, *field);  // $fu == myself
    if (!g) return std::nullopt;
    get = std::move(*g);
  }
  if (other->kind == ExprKind::kMyself) {
    if (op != BinaryOp::kEq && op != BinaryOp::kNe) {
      env.error(e.loc, "myself can only be compared with == or !=");
      return std::nullopt;
    }
    return result(
        [get](ExecutionContext& ctx) {
          Value v = get(ctx);
          return Value::of(std::int64_t{!v.is_null() && uri_is_myself(ctx, v.to_str())});
        },
        negate);
  }
  if (other->kind == ExprKind::kIp) {
    if (!is_address_field(f) || (op != BinaryOp::kEq && op != BinaryOp::kNe)) {
      env.error(other->loc, "an address is compared with src_ip or dst_ip, with == or !=");
      return std::nullopt;
    }
    std::string err;
    auto net = parse_network(*other, &err);
    if (!net) {
      env.error(other->loc, err);
      return std::nullopt;
    }
    return result(
        [get, net = *net](ExecutionContext& ctx) {
          return Value::of(std::int64_t{net.contains(get(ctx).to_str())});
        },
        negate);
  }
  if (op == BinaryOp::kMatch || op == BinaryOp::kNotMatch) {
    if (other->kind != ExprKind::kString) {
      env.error(other->loc, "=~ on a message keyword takes a string");
      return std::nullopt;
    }
    std::string err;
    std::shared_ptr<Regex> re = Regex::compile(other->text, Regex::kIgnoreCase, &err);
    if (!re) {
      env.error(other->loc, "bad regular expression: " + err);
      return std::nullopt;
    }
    return result(
        [get, re](ExecutionContext& ctx) {
          Value v = get(ctx);
          return Value::of(std::int64_t{!v.is_null() && re->search(v.to_str())});
        },
        negate);
  }
  if (f == Field::kProto && field->kind == ExprKind::kField) {
    if (other->kind != ExprKind::kIdent && other->kind != ExprKind::kString) {
      env.error(other->loc, "proto is compared with UDP, TCP, TLS, SCTP, WS or WSS");
      return std::nullopt;
    }
    std::string want = to_lower(other->text);
    if (want != "udp" && want != "tcp" && want != "tls" && want != "sctp" && want != "ws" &&
        want != "wss") {
      env.error(other->loc, "unknown protocol '" + other->text + "'");
      return std::nullopt;
    }
    return result(
        [get, want](ExecutionContext& ctx) {
          return Value::of(std::int64_t{iequals(get(ctx).to_str(), want)});
        },
        negate);
  }
  if (is_int_field(f) && field->kind == ExprKind::kField) {
    auto rhs = compile_expr(env, *other);
    if (!rhs) return std::nullopt;
    return [get, rhs = *rhs, op](ExecutionContext& ctx) {
      std::int64_t a = get(ctx).to_int();
      std::int64_t b = rhs(ctx).to_int();
      bool r = false;
      switch (op) {
        case BinaryOp::kEq:
        case BinaryOp::kIntEq:
          r = a == b;
          break;
        case BinaryOp::kNe:
        case BinaryOp::kIntNe:
          r = a != b;
          break;
        case BinaryOp::kLt:
          r = a < b;
          break;
        case BinaryOp::kGt:
          r = a > b;
          break;
        case BinaryOp::kLe:
          r = a <= b;
          break;
        case BinaryOp::kGe:
          r = a >= b;
          break;
        default:
          break;
      }
      return Value::of(std::int64_t{r ? 1 : -1});
    };
  }
  if (op != BinaryOp::kEq && op != BinaryOp::kNe && op != BinaryOp::kStrEq &&
      op != BinaryOp::kStrNe) {
    env.error(e.loc, "'" + to_string(op) + "' cannot compare this keyword");
    return std::nullopt;
  }
  ExprFn rhs;
  if (other->kind == ExprKind::kIdent) {
    // method == INVITE, src_ip == host.name (compared as text: no DNS at compile time)
    std::string text = other->text;
    rhs = [text](ExecutionContext&) { return Value::of(text); };
  } else {
    auto r = compile_expr(env, *other);
    if (!r) return std::nullopt;
    rhs = std::move(*r);
  }
  // Kamailio compares method and URI strings without regard to case.
  return result(
      [get, rhs](ExecutionContext& ctx) {
        Value v = get(ctx);
        return Value::of(std::int64_t{!v.is_null() && iequals(v.to_str(), rhs(ctx).to_str())});
      },
      negate);
}

}  // namespace strowger::proxy::script::engine
