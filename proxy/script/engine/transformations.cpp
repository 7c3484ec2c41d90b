// Transformations ({s.len}, {uri.user}, {param.value,x}, ...) compiled to functions on a Value.
#include <functional>
#include <map>

#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {
namespace {

using ParamFn = std::function<Value(ExecutionContext&)>;
using Impl = std::function<Value(ExecutionContext&, const Value&, const std::vector<ParamFn>&)>;

struct Spec {
  std::size_t min_params;
  std::size_t max_params;
  Impl impl;
};

std::string_view trim(std::string_view s, bool left, bool right) {
  while (left && !s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (right && !s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

Value substr(const std::string& s, std::int64_t off, std::int64_t len) {
  auto n = static_cast<std::int64_t>(s.size());
  if (off < 0) off += n;
  if (off < 0 || off > n) return Value::null();
  std::int64_t end = len == 0 ? n : (len < 0 ? n + len : off + len);
  if (end > n) end = n;
  if (end < off) return Value::null();
  return Value::of(s.substr(static_cast<std::size_t>(off), static_cast<std::size_t>(end - off)));
}

Value select(const std::string& s, std::int64_t index, char sep) {
  std::vector<std::string_view> parts;
  std::string_view rest = s;
  for (std::size_t pos; (pos = rest.find(sep)) != std::string_view::npos;) {
    parts.push_back(rest.substr(0, pos));
    rest.remove_prefix(pos + 1);
  }
  parts.push_back(rest);
  auto n = static_cast<std::int64_t>(parts.size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) return Value::null();
  return Value::of(parts[static_cast<std::size_t>(index)]);
}

// The URI inside a name-addr ("Bob" <sip:b@h>;tag=x) or the text itself for an addr-spec.
std::string nameaddr_uri(const std::string& s) {
  auto lt = s.find('<');
  if (lt == std::string::npos) {
    auto semi = s.find(';');
    return std::string(trim(std::string_view(s).substr(0, semi), true, true));
  }
  auto gt = s.find('>', lt);
  if (gt == std::string::npos) return {};
  return s.substr(lt + 1, gt - lt - 1);
}

// name=value lists ("a=1;b;c=3"): value of name, "" for a name without value.
std::optional<std::string> param_value(std::string_view list, std::string_view name, char sep) {
  while (!list.empty()) {
    auto pos = list.find(sep);
    std::string_view item = trim(list.substr(0, pos), true, true);
    list = pos == std::string_view::npos ? std::string_view() : list.substr(pos + 1);
    auto eq = item.find('=');
    std::string_view key = trim(item.substr(0, eq), true, true);
    if (iequals(key, name)) {
      if (eq == std::string_view::npos) return std::string();
      return std::string(trim(item.substr(eq + 1), true, true));
    }
  }
  return std::nullopt;
}

char sep_of(const std::vector<ParamFn>& p, std::size_t i, ExecutionContext& c, char dflt) {
  if (p.size() <= i) return dflt;
  std::string s = p[i](c).to_str();
  return s.empty() ? dflt : s[0];
}

Value uri_field(const Value& v, const std::string& field) {
  auto u = sip::Uri::parse(v.to_str());
  if (!u) return Value::null();
  if (field == "user") return Value::of(u->user);
  if (field == "host") return Value::of(u->host);
  if (field == "port") return u->port ? Value::of(std::int64_t{u->port}) : Value::of("");
  if (field == "passwd") return Value::of(u->password);
  if (field == "params") return Value::of(u->params);
  if (field == "headers") return Value::of(u->headers);
  if (field == "scheme") return Value::of(u->scheme);
  if (field == "transport") return Value::of(u->param("transport").value_or(""));
  return Value::null();
}

const std::map<std::string, Spec, std::less<>>& specs() {
  using P = std::vector<ParamFn>;
  using C = ExecutionContext;
  static const std::map<std::string, Spec, std::less<>> table = [] {
    std::map<std::string, Spec, std::less<>> t;
    t["s.len"] = {0, 0, [](C&, const Value& v, const P&) {
                    return Value::of(static_cast<std::int64_t>(v.to_str().size()));
                  }};
    t["s.int"] = {0, 0, [](C&, const Value& v, const P&) { return Value::of(v.to_int()); }};
    t["s.tolower"] = {0, 0,
                      [](C&, const Value& v, const P&) { return Value::of(to_lower(v.to_str())); }};
    t["s.toupper"] = {0, 0, [](C&, const Value& v, const P&) {
                        std::string s = v.to_str();
                        for (char& ch : s) {
                          if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
                        }
                        return Value::of(s);
                      }};
    t["s.trim"] = {
        0, 0, [](C&, const Value& v, const P&) { return Value::of(trim(v.to_str(), true, true)); }};
    t["s.ltrim"] = {0, 0, [](C&, const Value& v, const P&) {
                      return Value::of(trim(v.to_str(), true, false));
                    }};
    t["s.rtrim"] = {0, 0, [](C&, const Value& v, const P&) {
                      return Value::of(trim(v.to_str(), false, true));
                    }};
    t["s.substr"] = {2, 2, [](C& c, const Value& v, const P& p) {
                       return substr(v.to_str(), p[0](c).to_int(), p[1](c).to_int());
                     }};
    t["s.select"] = {2, 2, [](C& c, const Value& v, const P& p) {
                       return select(v.to_str(), p[0](c).to_int(), sep_of(p, 1, c, ','));
                     }};
    t["s.strip"] = {1, 1, [](C& c, const Value& v, const P& p) {
                      std::string s = v.to_str();
                      auto n =
                          static_cast<std::size_t>(std::max<std::int64_t>(0, p[0](c).to_int()));
                      return Value::of(n >= s.size() ? std::string() : s.substr(n));
                    }};
    t["s.striptail"] = {
        1, 1, [](C& c, const Value& v, const P& p) {
          std::string s = v.to_str();
          auto n = static_cast<std::size_t>(std::max<std::int64_t>(0, p[0](c).to_int()));
          return Value::of(n >= s.size() ? std::string() : s.substr(0, s.size() - n));
        }};
    for (const char* f :
         {"user", "host", "port", "passwd", "params", "headers", "scheme", "transport"}) {
      std::string field = f;
      t["uri." + field] = {0, 0,
                           [field](C&, const Value& v, const P&) { return uri_field(v, field); }};
    }
    t["uri.param"] = {1, 1, [](C& c, const Value& v, const P& p) {
                        auto u = sip::Uri::parse(v.to_str());
                        if (!u) return Value::null();
                        auto val = u->param(p[0](c).to_str());
                        return val ? Value::of(*val) : Value::of("");
                      }};
    t["param.value"] = {1, 2, [](C& c, const Value& v, const P& p) {
                          auto val =
                              param_value(v.to_str(), p[0](c).to_str(), sep_of(p, 1, c, ';'));
                          return val ? Value::of(*val) : Value::of("");
                        }};
    t["param.in"] = {
        1, 2, [](C& c, const Value& v, const P& p) {
          bool in = param_value(v.to_str(), p[0](c).to_str(), sep_of(p, 1, c, ';')).has_value();
          return Value::of(std::int64_t{in ? 1 : 0});
        }};
    t["param.count"] = {
        0, 1, [](C& c, const Value& v, const P& p) {
          std::string s = v.to_str();
          if (trim(s, true, true).empty()) return Value::of(std::int64_t{0});
          char sep = sep_of(p, 0, c, ';');
          return Value::of(static_cast<std::int64_t>(std::count(s.begin(), s.end(), sep) + 1));
        }};
    t["nameaddr.uri"] = {
        0, 0, [](C&, const Value& v, const P&) { return Value::of(nameaddr_uri(v.to_str())); }};
    t["nameaddr.name"] = {0, 0, [](C&, const Value& v, const P&) {
                            std::string s = v.to_str();
                            auto lt = s.find('<');
                            if (lt == std::string::npos) return Value::of("");
                            std::string n(trim(std::string_view(s).substr(0, lt), true, true));
                            if (n.size() >= 2 && n.front() == '"' && n.back() == '"') {
                              n = n.substr(1, n.size() - 2);
                            }
                            return Value::of(n);
                          }};
    t["tobody.uri"] = t["nameaddr.uri"];
    t["tobody.display"] = t["nameaddr.name"];
    t["tobody.tag"] = {
        0, 0, [](C&, const Value& v, const P&) {
          std::string s = v.to_str();
          auto gt = s.rfind('>');
          std::string params =
              gt == std::string::npos
                  ? (s.find(';') == std::string::npos ? std::string() : s.substr(s.find(';') + 1))
                  : s.substr(gt + 1);
          auto val = param_value(params, "tag", ';');
          return val ? Value::of(*val) : Value::of("");
        }};
    return t;
  }();
  return table;
}

}  // namespace

std::optional<TransformFn> compile_transform(CompileEnv& env, const PvTransform& t, SourceLoc loc) {
  auto it = specs().find(t.name);
  if (it == specs().end()) {
    env.error(loc, "unknown transformation {" + t.name + "}");
    return std::nullopt;
  }
  const Spec& spec = it->second;
  if (t.params.size() < spec.min_params || t.params.size() > spec.max_params) {
    env.error(
        loc,
        "{" + t.name + "} takes " + std::to_string(spec.min_params) +
            (spec.max_params != spec.min_params ? " to " + std::to_string(spec.max_params) : "") +
            " parameter(s), " + std::to_string(t.params.size()) + " given");
    return std::nullopt;
  }
  std::vector<ParamFn> params;
  for (const auto& p : t.params) {
    if (p.pv) {
      auto pv = compile_pv(env, *p.pv);
      if (!pv) return std::nullopt;
      params.push_back(pv->get);
    } else {
      Value v = Value::of(p.text);
      params.push_back([v](ExecutionContext&) { return v; });
    }
  }
  // Integer parameters must be numbers when written literally.
  if (t.name == "s.substr" || t.name == "s.select" || t.name == "s.strip" ||
      t.name == "s.striptail") {
    for (std::size_t i = 0; i < t.params.size(); i++) {
      bool is_int_param = !(t.name == "s.select" && i == 1);
      if (is_int_param && !t.params[i].pv && !parse_int(t.params[i].text)) {
        env.error(loc, "{" + t.name + "}: parameter " + std::to_string(i + 1) + " ('" +
                           t.params[i].text + "') must be a number");
        return std::nullopt;
      }
    }
  }
  // s.len of $null is 0; other transformations of $null give $null (Kamailio fails them).
  bool keep_null = t.name != "s.len";
  return [impl = spec.impl, params = std::move(params), keep_null](ExecutionContext& c, Value v) {
    if (v.is_null() && keep_null) return v;
    return impl(c, v, params);
  };
}

}  // namespace strowger::proxy::script::engine
