// Kamailio selects (@ruri.user, @via[1].branch, $sel(from.tag)): each supported select is the
// pseudo-variable with the same meaning, so it compiles to the same code.
#include <cctype>
#include <map>

#include "proxy/script/engine/compile_env.h"

namespace strowger::proxy::script::engine {
namespace {

const std::map<std::string, std::string, std::less<>>& select_table() {
  static const std::map<std::string, std::string, std::less<>> t = {
      {"ruri", "$ru"},
      {"ruri.user", "$rU"},
      {"ruri.host", "$rd"},
      {"ruri.port", "$rp"},
      {"from", "$hdr(From)"},
      {"from.uri", "$fu"},
      {"from.uri.user", "$fU"},
      {"from.uri.host", "$fd"},
      {"from.tag", "$ft"},
      {"from.name", "$fn"},
      {"to", "$hdr(To)"},
      {"to.uri", "$tu"},
      {"to.uri.user", "$tU"},
      {"to.uri.host", "$td"},
      {"to.tag", "$tt"},
      {"to.name", "$tn"},
      {"call_id", "$ci"},
      {"cseq", "$hdr(CSeq)"},
      {"cseq.num", "$cs"},
      {"cseq.method", "$rm"},  // $rm is the CSeq method in a reply too
      {"contact", "$hdr(Contact)"},
      {"user_agent", "$ua"},
      {"method", "$rm"},
      {"src.ip", "$si"},
      {"src.port", "$sp"},
      {"dst.ip", "$Ri"},
      {"dst.port", "$Rp"},
  };
  return t;
}

}  // namespace

std::optional<std::string> select_as_pv(std::string_view name, std::string* error) {
  if (!name.empty() && name.front() == '@') name.remove_prefix(1);
  const auto& t = select_table();
  if (auto it = t.find(name); it != t.end()) return it->second;
  // via[N] / via[N].branch / via[N].host (N from 1, as in Kamailio); via = via[1].
  std::string_view rest = name;
  if (rest.substr(0, 3) == "via") {
    rest.remove_prefix(3);
    long n = 1;
    if (!rest.empty() && rest.front() == '[') {
      const std::size_t close = rest.find(']');
      if (close == std::string_view::npos || close < 2) {
        *error = "bad index in select @" + std::string(name);
        return std::nullopt;
      }
      n = 0;
      for (char c : rest.substr(1, close - 1)) {
        if (!std::isdigit(static_cast<unsigned char>(c)) || n > 1000) {
          *error = "bad index in select @" + std::string(name);
          return std::nullopt;
        }
        n = n * 10 + (c - '0');
      }
      if (n < 1) {
        *error = "via indexes start at 1 in select @" + std::string(name);
        return std::nullopt;
      }
      rest.remove_prefix(close + 1);
    }
    const std::string via = "hdr(Via)[" + std::to_string(n - 1) + "]";
    if (rest.empty()) return "$" + via;
    if (rest == ".branch") return "$(" + via + "{param.value,branch})";
    if (rest == ".received") return "$(" + via + "{param.value,received})";
    if (rest == ".rport") return "$(" + via + "{param.value,rport})";
  }
  std::string known;
  for (const auto& [k, v] : t) known += (known.empty() ? "" : ", ") + k;
  *error = "select @" + std::string(name) + " is not supported in Strowger (supported: " + known +
           ", via[N], via[N].branch, via[N].received, via[N].rport)";
  return std::nullopt;
}

std::optional<CompiledPv> compile_select(CompileEnv& env, std::string_view name, SourceLoc loc) {
  std::string error;
  std::optional<std::string> text = select_as_pv(name, &error);
  if (!text) {
    env.error(loc, error);
    return std::nullopt;
  }
  PvRef pv;
  if (parse_pv(*text, &pv, &error) != text->size()) {
    env.error(loc, "internal: select @" + std::string(name) + " maps to a bad reference");
    return std::nullopt;
  }
  pv.loc = loc;
  std::optional<CompiledPv> compiled = compile_pv(env, pv);
  if (compiled) compiled->set = nullptr;  // selects are read-only
  return compiled;
}

}  // namespace strowger::proxy::script::engine
