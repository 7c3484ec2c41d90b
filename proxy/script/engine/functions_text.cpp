// Functions computed from the message alone: textops, siputils, maxfwd, sanity, flags, xlog.
#include <memory>

#include "proxy/script/engine/functions.h"
#include "proxy/script/engine/message_text.h"
#include "proxy/script/subst.h"

namespace strowger::proxy::script::engine {
namespace {

std::optional<ActionFn> no_args(int (*fn)(ExecutionContext&)) {
  return ActionFn(fn);
}

std::optional<ActionFn> is_method(CompileEnv& env, const Expr& call) {
  auto text = arg_const_string(env, *call.args[0], "methods");
  if (!text) return std::nullopt;
  std::vector<std::string> names;
  std::string rest = *text;
  for (std::size_t pos; (pos = rest.find('|')) != std::string::npos; rest.erase(0, pos + 1)) {
    names.push_back(rest.substr(0, pos));
  }
  names.push_back(rest);
  for (const auto& n : names) {
    if (n.empty()) {
      env.error(call.args[0]->loc, "is_method(): empty method name in \"" + *text + "\"");
      return std::nullopt;
    }
  }
  return [names](ExecutionContext& c) {
    std::string_view m = c.msg().is_request() ? c.msg().method_name() : c.msg().cseq_method_name();
    for (const auto& n : names) {
      if (iequals(m, n)) return 1;
    }
    return -1;
  };
}

std::optional<ActionFn> header_name_fn(CompileEnv& env, const Expr& call, bool remove) {
  auto name = arg_value(env, *call.args[0]);
  if (!name) return std::nullopt;
  return [name = *name, remove](ExecutionContext& c) {
    std::string n = name(c).to_str();
    if (!remove) return c.msg().has_header(n) ? 1 : -1;
    int removed = c.msg().remove_headers(n);
    return removed > 0 ? removed : -1;
  };
}

// "Name: value\r\n" lines, as Kamailio's append_hf takes them.
bool split_header_lines(const std::string& text,
                        std::vector<std::pair<std::string, std::string>>* out) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) return false;
    std::string name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    std::size_t v = colon + 1;
    while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) v++;
    if (name.empty() || name.find_first_of(" \t") != std::string::npos) return false;
    out->emplace_back(name, line.substr(v));
  }
  return !out->empty();
}

std::optional<ActionFn> add_hf(CompileEnv& env, const Expr& call, bool at_top) {
  auto text = arg_value(env, *call.args[0]);
  if (!text) return std::nullopt;
  return [text = *text, at_top](ExecutionContext& c) {
    std::string t = text(c).to_str();
    std::vector<std::pair<std::string, std::string>> headers;
    if (!split_header_lines(t, &headers)) {
      c.host.log(kLogErr, "append_hf/insert_hf: not a \"Name: value\" header: " + t);
      return -1;
    }
    auto& m = c.msg();
    if (!at_top) {
      for (const auto& [name, value] : headers) {
        if (!m.add_header(name, value)) return -1;
      }
      return 1;
    }
    // Sofia has no "insert first": edit the text after the start line and reparse.
    std::string wire(m.wire());
    auto eol = wire.find("\r\n");
    if (eol == std::string::npos) return -1;
    std::string lines;
    for (const auto& [name, value] : headers) lines += name + ": " + value + "\r\n";
    wire.insert(eol + 2, lines);
    return replace_message(m, std::move(wire)) ? 1 : -1;
  };
}

std::optional<ActionFn> search(CompileEnv& env, const Expr& call) {
  auto text = arg_const_string(env, *call.args[0], "regex");
  if (!text) return std::nullopt;
  std::string err;
  std::shared_ptr<Regex> re =
      Regex::compile(*text, Regex::kIgnoreCase | Regex::kNewlineSensitive, &err);
  if (!re) {
    env.error(call.args[0]->loc, "bad regular expression: " + err);
    return std::nullopt;
  }
  return [re](ExecutionContext& c) { return re->search(std::string(c.msg().wire())) ? 1 : -1; };
}

std::optional<ActionFn> subst(CompileEnv& env, const Expr& call) {
  auto text = arg_const_string(env, *call.args[0], "subst expression");
  if (!text) return std::nullopt;
  std::string err;
  auto rule = SubstRule::parse(*text, &err);
  if (!rule) {
    env.error(call.args[0]->loc, "bad subst expression: " + err);
    return std::nullopt;
  }
  auto shared = std::make_shared<SubstRule>(std::move(*rule));
  return [shared](ExecutionContext& c) {
    // As Kamailio's textops, the start line is left alone.
    std::string wire(c.msg().wire());
    auto eol = wire.find("\r\n");
    if (eol == std::string::npos) return -1;
    std::string rest = wire.substr(eol + 2);
    std::string err;
    if (!shared->apply(&rest, &err)) return -1;
    if (!replace_message(c.msg(), wire.substr(0, eol + 2) + rest)) {
      c.host.log(kLogErr, "subst(): the edited message does not parse; left unchanged");
      return -1;
    }
    return 1;
  };
}

int force_rport(ExecutionContext& c) {
  auto& m = c.msg();
  auto via = m.via(0);
  if (!m.is_request() || !via) return -1;
  if (via->has_rport) return 1;
  auto values = m.header_values("Via");
  if (values.empty()) return -1;
  std::string top = values.front() + ";rport";
  m.pop_via();
  return m.push_via(top) ? 1 : -1;
}

std::optional<ActionFn> maxfwd(CompileEnv& env, const Expr& call) {
  auto limit = arg_const_int(env, *call.args[0], "Max-Forwards value");
  if (!limit) return std::nullopt;
  if (*limit < 1 || *limit > 256) {
    env.error(call.args[0]->loc, "mf_process_maxfwd_header(): value must be 1..256");
    return std::nullopt;
  }
  unsigned value = static_cast<unsigned>(*limit);
  return [value](ExecutionContext& c) {
    auto& m = c.msg();
    if (!m.is_request()) return -1;
    auto mf = m.max_forwards();
    if (!mf) {
      m.set_max_forwards(value);
      return 2;
    }
    if (*mf == 0) return -1;
    m.set_max_forwards(*mf - 1);
    return 1;
  };
}

std::optional<ActionFn> sanity(CompileEnv& env, const Expr& call) {
  for (const auto& a : call.args) {
    if (!arg_const_int(env, *a, "check bitmask")) return std::nullopt;
  }
  bool autodrop = true;  // sanity's default
  for (const auto& s : env.program.settings) {
    if (s.name == "sanity.autodrop") autodrop = s.value != "0";
  }
  // The checks are Message::validate()'s RFC 3261 set; the bitmasks do not narrow them.
  return [autodrop](ExecutionContext& c) {
    auto failure = c.msg().validate();
    if (!failure) return 1;
    if (c.msg().is_request() && failure->status > 0) {
      c.host.reply(failure->status, failure->reason, ReplyMode::kStateless);
    }
    return autodrop ? 0 : -1;
  };
}

std::optional<int> log_level(std::string_view name) {
  static const std::pair<const char*, int> kLevels[] = {
      {"L_ALERT", kLogAlert}, {"L_BUG", kLogBug},       {"L_CRIT", kLogCrit}, {"L_ERR", kLogErr},
      {"L_WARN", kLogWarn},   {"L_NOTICE", kLogNotice}, {"L_INFO", kLogInfo}, {"L_DBG", kLogDebug}};
  for (const auto& [n, l] : kLevels) {
    if (name == n) return l;
  }
  return std::nullopt;
}

FunctionSpec xlog_spec(int fixed_level) {
  bool has_level_arg = fixed_level == 99;
  return {1, has_level_arg ? std::size_t{2} : std::size_t{1},
          [fixed_level](CompileEnv& env, const Expr& call) -> std::optional<ActionFn> {
            int level = fixed_level == 99 ? kLogErr : fixed_level;
            const Expr* fmt = call.args[0].get();
            if (call.args.size() == 2) {
              auto name = arg_const_string(env, *call.args[0], "log level");
              if (!name) return std::nullopt;
              auto l = log_level(*name);
              if (!l) {
                env.error(call.args[0]->loc, "unknown log level '" + *name + "'");
                return std::nullopt;
              }
              level = *l;
              fmt = call.args[1].get();
            }
            auto text = arg_value(env, *fmt);
            if (!text) return std::nullopt;
            return [level, text = *text](ExecutionContext& c) {
              std::string t = text(c).to_str();
              while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
              c.host.log(level, t);
              return 1;
            };
          }};
}

FunctionSpec flag_spec(std::uint64_t ExecutionContext::*field, int op) {
  return {1, 1, [field, op](CompileEnv& env, const Expr& call) -> std::optional<ActionFn> {
            auto bit = arg_flag(env, *call.args[0]);
            if (!bit) return std::nullopt;
            std::uint64_t mask = std::uint64_t{1} << *bit;
            return [field, op, mask](ExecutionContext& c) {
              std::uint64_t& f = c.*field;
              if (op == 0) f |= mask;
              if (op == 1) f &= ~mask;
              if (op == 2) return (f & mask) ? 1 : -1;
              return 1;
            };
          }};
}

}  // namespace

void add_text_functions(FunctionTable& t) {
  t["has_totag"] = {
      0, 0, [](CompileEnv&, const Expr&) {
        return no_args([](ExecutionContext& c) { return c.msg().to_tag().empty() ? -1 : 1; });
      }};
  t["is_request"] = {
      0, 0, [](CompileEnv&, const Expr&) {
        return no_args([](ExecutionContext& c) { return c.msg().is_request() ? 1 : -1; });
      }};
  t["is_reply"] = {
      0, 0, [](CompileEnv&, const Expr&) {
        return no_args([](ExecutionContext& c) { return c.msg().is_request() ? -1 : 1; });
      }};
  t["force_rport"] = {0, 0, [](CompileEnv&, const Expr&) { return no_args(force_rport); }};
  t["is_method"] = {1, 1, is_method};
  t["is_present_hf"] = {1, 1,
                        [](CompileEnv& e, const Expr& c) { return header_name_fn(e, c, false); }};
  t["remove_hf"] = {1, 1, [](CompileEnv& e, const Expr& c) { return header_name_fn(e, c, true); }};
  t["append_hf"] = {1, 1, [](CompileEnv& e, const Expr& c) { return add_hf(e, c, false); }};
  t["insert_hf"] = {1, 1, [](CompileEnv& e, const Expr& c) { return add_hf(e, c, true); }};
  t["search"] = {1, 1, search};
  t["subst"] = {1, 1, subst};
  t["mf_process_maxfwd_header"] = {1, 1, maxfwd};
  t["sanity_check"] = {0, 2, sanity};
  t["xlog"] = xlog_spec(99);
  t["xdbg"] = xlog_spec(kLogDebug);
  t["xinfo"] = xlog_spec(kLogInfo);
  t["xnotice"] = xlog_spec(kLogNotice);
  t["xwarn"] = xlog_spec(kLogWarn);
  t["xerr"] = xlog_spec(kLogErr);
  t["xbug"] = xlog_spec(kLogBug);
  t["xcrit"] = xlog_spec(kLogCrit);
  t["xalert"] = xlog_spec(kLogAlert);
  t["setflag"] = flag_spec(&ExecutionContext::flags, 0);
  t["resetflag"] = flag_spec(&ExecutionContext::flags, 1);
  t["isflagset"] = flag_spec(&ExecutionContext::flags, 2);
  t["isflag"] = flag_spec(&ExecutionContext::flags, 2);
  t["setbflag"] = flag_spec(&ExecutionContext::bflags, 0);
  t["resetbflag"] = flag_spec(&ExecutionContext::bflags, 1);
  t["isbflagset"] = flag_spec(&ExecutionContext::bflags, 2);
  t["isbflag"] = flag_spec(&ExecutionContext::bflags, 2);
}

}  // namespace strowger::proxy::script::engine
