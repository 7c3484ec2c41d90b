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

int lookup(sipproxy::ScriptCall& call, const sipproxy::usrloc::Location& loc,
           const RegistrarConfig& cfg, std::string_view uri) {
  std::optional<sipproxy::Uri> target = target_of(call, uri);
  if (!target) return -3;
  std::vector<Binding> bindings;
  std::optional<std::string> gr = target->param("gr");
  if (gr && cfg.gruu_enabled && gr->empty() && target->user.rfind("tg-", 0) == 0) {
    // temp-gruu: "tg-<ruid>" names one binding.
    if (auto found = loc.find_by_ruid(target->user.substr(3))) {
      bindings.push_back(std::move(found->second));
    }
  } else {
    std::string aor = aor_of(target->to_string(), cfg.use_domain);
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
  // Highest q first; among equal q the newest first (Kamailio's order). Equal q fork in
  // parallel: the core relays every branch at once.
  std::stable_sort(bindings.begin(), bindings.end(), [](const Binding& a, const Binding& b) {
    if (effective_q(a.q) != effective_q(b.q)) return effective_q(a.q) > effective_q(b.q);
    return a.last_modified > b.last_modified;
  });
  bool first = true;
  for (const Binding& b : bindings) {
    std::optional<sipproxy::Uri> contact = sipproxy::Uri::parse(b.contact);
    if (!contact) continue;
    if (first) {
      call.message().set_request_uri(*contact);
      call.set_dst_uri(b.received);
      call.set_path(b.path);
      first = false;
    } else {
      sipproxy::Branch br;
      br.uri = b.contact;
      br.dst_uri = b.received;
      br.path = b.path;
      br.q = b.q;
      if (!call.append_branch(std::move(br))) break;  // branch limit: keep the best ones
    }
  }
  return first ? -3 : 1;
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
