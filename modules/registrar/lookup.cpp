// lookup(), registered(), unregister(): the location table read back into the request's
// destination set (one branch per contact, by q), GRUUs resolved to their instance.
#include <algorithm>
#include <cctype>

#include "modules/registrar/registrar.h"

namespace strowger::modules::registrar {
namespace {

using sipproxy::usrloc::Binding;

std::optional<sipproxy::Uri> target_of(sipproxy::ScriptCall& call, std::string_view uri) {
  if (uri.empty()) return call.message().request_uri();
  return sipproxy::Uri::parse(uri);
}

int effective_q(int q) {
  return q < 0 ? 1000 : q;
}  // no q: as 1.0

}  // namespace

std::string aor_of(std::string_view text, bool use_domain) {
  std::optional<sipproxy::Uri> u = sipproxy::Uri::parse(text);
  if (!u || !u->is_sip() || u->user.empty()) return {};
  if (!use_domain) return u->user;
  std::string host = u->host;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return u->user + "@" + host;
}

std::uint32_t method_bit(proxy::sip::Method m) {
  return 1u << static_cast<unsigned>(m);
}

std::uint32_t parse_methods(const std::vector<std::string>& lists) {
  std::uint32_t mask = 0;
  for (const std::string& list : lists) {
    std::string_view rest = list;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view token = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!token.empty() &&
             (token.front() == ' ' || token.front() == '\t' || token.front() == '"'))
        token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '"'))
        token.remove_suffix(1);
      if (!token.empty()) mask |= method_bit(proxy::sip::method_from_name(token));
    }
  }
  return mask;
}

namespace {

// The target's contacts, best first (q, then newest), filtered by method when configured:
// 1 found, -1 none, -2 none allows the request's method.
int resolve(sipproxy::ScriptCall& call, const sipproxy::usrloc::Location& loc,
            const RegistrarConfig& cfg, const sipproxy::Uri& target, std::vector<Binding>* out) {
  std::vector<Binding>& bindings = *out;
  bindings.clear();
  std::optional<std::string> gr = target.param("gr");
  if (gr && cfg.gruu_enabled && gr->empty() && target.user.rfind("tg-", 0) == 0) {
    // temp-gruu: "tg-<ruid>" names one binding.
    if (auto found = loc.find_by_ruid(target.user.substr(3))) {
      bindings.push_back(std::move(found->second));
    }
  } else {
    std::string aor = aor_of(target.to_string(), cfg.use_domain);
    if (aor.empty()) return -1;
    bindings = loc.get(aor);
    if (gr && cfg.gruu_enabled && !gr->empty()) {
      // pub-gruu: the instance's most recent flow (RFC 5627 5.4).
      const std::string instance = "<" + *gr + ">";
      std::erase_if(bindings, [&](const Binding& b) { return b.instance != instance; });
      std::stable_sort(bindings.begin(), bindings.end(), [](const Binding& a, const Binding& b) {
        return a.last_modified > b.last_modified;
      });
      if (bindings.size() > 1) bindings.resize(1);
    }
  }
  if (bindings.empty()) return -1;
  if (cfg.method_filtering) {
    const std::uint32_t bit = method_bit(call.message().method());
    std::erase_if(bindings,
                  [bit](const Binding& b) { return b.methods != 0 && !(b.methods & bit); });
    if (bindings.empty()) return -2;
  }
  // Highest q first; among equal q the newest first (Kamailio's order). Equal q fork in
  // parallel: the core relays every branch at once.
  std::stable_sort(bindings.begin(), bindings.end(), [](const Binding& a, const Binding& b) {
    if (effective_q(a.q) != effective_q(b.q)) return effective_q(a.q) > effective_q(b.q);
    return a.last_modified > b.last_modified;
  });
  return 1;
}

// RFC 5626: a contact registered with an instance and reg-id is reached over its flow only.
bool is_flow(const Binding& b) { return b.connection_id != 0 && !b.instance.empty() && b.reg_id != 0; }

sipproxy::Branch branch_of(const Binding& b, std::uint64_t bflags) {
  sipproxy::Branch br;
  br.uri = b.contact;
  br.dst_uri = b.received;
  br.path = b.path;
  br.q = b.q;
  br.bflags = bflags;
  br.connection_id = b.connection_id;
  br.flow = is_flow(b);
  return br;
}

// Puts the bindings into the destination set: the first into the R-URI when `ruri` (its ruid
// becomes $ruid), the others as appended branches. False when none had a usable URI.
bool apply(sipproxy::ScriptCall& call, const std::vector<Binding>& bindings, bool ruri,
           std::uint64_t bflags) {
  bool used = false;
  for (const Binding& b : bindings) {
    std::optional<sipproxy::Uri> contact = sipproxy::Uri::parse(b.contact);
    if (!contact) continue;
    if (ruri && !used) {
      call.message().set_request_uri(*contact);
      call.set_dst_uri(b.received);
      call.set_path(b.path);
      call.set_connection(b.connection_id, is_flow(b));
      call.set_avp(kRuidAvp, b.ruid);
    } else if (!call.append_branch(branch_of(b, bflags))) {
      break;  // branch limit: keep the best ones
    }
    used = true;
  }
  return used;
}

}  // namespace

int lookup(sipproxy::ScriptCall& call, const sipproxy::usrloc::Location& loc,
           const RegistrarConfig& cfg, std::string_view uri) {
  std::optional<sipproxy::Uri> target = target_of(call, uri);
  if (!target) return -3;
  std::vector<Binding> bindings;
  int rc = resolve(call, loc, cfg, *target, &bindings);
  if (rc < 0) return rc;
  return apply(call, bindings, true, 0) ? 1 : -3;
}

int lookup_branches(sipproxy::ScriptCall& call, const sipproxy::usrloc::Location& loc,
                    const RegistrarConfig& cfg) {
  auto ours = [&](const sipproxy::Uri& u) {
    return u.is_sip() && !u.user.empty() && call.is_myself(u.host, u.port);
  };
  const std::vector<sipproxy::Branch> appended = call.branches();  // the set is rebuilt
  call.clear_branches();
  int code = -1;  // -2 ("contacts, but not for this method") says more than -1
  bool found = false;
  std::vector<Binding> bindings;
  const std::optional<sipproxy::Uri> ruri = call.message().request_uri();
  if (ruri && ours(*ruri)) {
    int rc = resolve(call, loc, cfg, *ruri, &bindings);
    if (rc > 0 && apply(call, bindings, true, 0)) found = true;
    if (rc == -2) code = -2;
  }
  for (const sipproxy::Branch& br : appended) {
    std::optional<sipproxy::Uri> u = sipproxy::Uri::parse(br.uri);
    if (u && ours(*u)) {
      int rc = resolve(call, loc, cfg, *u, &bindings);
      if (rc > 0 && apply(call, bindings, false, br.bflags)) {
        found = true;
        continue;
      }
      if (rc == -2) code = -2;
    }
    if (!call.append_branch(br)) break;  // not ours or not registered: relayed as it was
  }
  return found ? 1 : code;
}

int registered(sipproxy::ScriptCall& call, const sipproxy::usrloc::Location& loc,
               const RegistrarConfig& cfg, std::string_view uri) {
  std::optional<sipproxy::Uri> target = target_of(call, uri);
  if (!target) return -1;
  std::string aor = aor_of(target->to_string(), cfg.use_domain);
  if (aor.empty()) return -1;
  return loc.get(aor).empty() ? -1 : 1;
}

int unregister(sipproxy::ScriptCall& call, sipproxy::usrloc::Location& loc,
               const RegistrarConfig& cfg, std::string_view uri, std::string_view ruid) {
  std::optional<sipproxy::Uri> target = target_of(call, uri);
  if (!target) return -1;
  std::string aor = aor_of(target->to_string(), cfg.use_domain);
  if (aor.empty()) return -1;
  bool removed = false;
  loc.update(aor, [&](std::vector<Binding>& bindings) {
    std::size_t before = bindings.size();
    if (ruid.empty()) {
      bindings.clear();
    } else {
      std::erase_if(bindings, [&](const Binding& b) { return b.ruid == ruid; });
    }
    removed = bindings.size() != before;
    return removed;
  });
  return removed ? 1 : -1;
}

}  // namespace strowger::modules::registrar
