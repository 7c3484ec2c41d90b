// save(): RFC 3261 10.3 steps 4-8 for one REGISTER, with Path (RFC 3327), outbound flows
// (RFC 5626) and GRUU (RFC 5627); the 200 OK lists every current binding.
#include <algorithm>
#include <ctime>
#include <set>

#include "modules/registrar/contact.h"
#include "modules/registrar/registrar.h"

namespace strowger::modules::registrar {
namespace {

using sipproxy::usrloc::Binding;

struct Wanted {
  ContactValue c;
  std::int64_t expires = 0;  // seconds from now, 0: remove
  int q = -1;
  std::string instance;
  std::uint32_t reg_id = 0;
  std::uint32_t methods = 0;  // 0: all
};

bool same_flow(const Binding& b, const Wanted& w) {
  // An instance (with its reg-id) names the device/flow, whatever its Contact URI now is.
  if (!w.instance.empty()) return b.instance == w.instance && b.reg_id == w.reg_id;
  return b.instance.empty() && b.contact == w.c.uri;
}

std::string source_uri(const sipproxy::Peer& p) {
  std::string host = p.ip.find(':') != std::string::npos ? "[" + p.ip + "]" : p.ip;
  return "sip:" + host + ":" + std::to_string(p.port) + ";transport=" + p.proto;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string contact_line(const Binding& b, std::int64_t now, bool gruu, const sipproxy::Uri& to) {
  std::string line = "Contact: <" + b.contact +
                     ">;expires=" + std::to_string(std::max<std::int64_t>(0, b.expires - now));
  if (b.q >= 0) line += ";q=" + format_q(b.q);
  if (!b.instance.empty()) {
    line += ";+sip.instance=\"" + b.instance + "\"";
    if (b.reg_id != 0) line += ";reg-id=" + std::to_string(b.reg_id);
    if (gruu && b.instance.size() > 2 && b.instance.front() == '<' && b.instance.back() == '>') {
      std::string host = to.host + (to.port ? ":" + std::to_string(to.port) : "");
      std::string id = b.instance.substr(1, b.instance.size() - 2);
      line += ";pub-gruu=\"" + to.scheme + ":" + to.user + "@" + host + ";gr=" + id + "\"";
      line += ";temp-gruu=\"" + to.scheme + ":tg-" + b.ruid + "@" + host + ";gr\"";
    }
  }
  return line + "\r\n";
}

}  // namespace

std::string http_date(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

int save(sipproxy::ScriptCall& call, sipproxy::usrloc::Location& loc, const RegistrarConfig& cfg,
         std::int64_t flags) {
  sipproxy::Message& m = call.message();
  const bool reply = (flags & kSaveNoReply) == 0;
  auto fail = [&](int code, std::string_view reason, const std::string& extra = {}) {
    if (reply) call.reply(code, reason, extra);
    return -1;
  };
  if (m.method() != proxy::sip::Method::kRegister) return -1;
  std::optional<sipproxy::Uri> to = m.to_uri();
  std::string aor = to ? aor_of(to->to_string(), cfg.use_domain) : "";
  if (aor.empty()) return fail(400, "Bad To Header");  // step 5

  const std::vector<std::string> supported = m.header_values("Supported");
  std::vector<std::string> path;
  if (cfg.use_path) path = m.header_values("Path");
  const bool path_supported = lists_token(supported, "path");
  if (!path.empty() && cfg.path_mode == 2 && !path_supported)
    return fail(420, "Bad Extension", "Unsupported: path\r\n");

  std::optional<std::int64_t> header_expires;
  if (auto ev = m.header_values("Expires"); !ev.empty()) header_expires = parse_seconds(ev[0]);

  // Step 6: the Contacts, "*" only alone and with Expires: 0.
  std::vector<Wanted> wanted;
  bool star = false;
  for (const std::string& v : m.header_values("Contact")) {
    std::optional<ContactValue> c = parse_contact(v);
    if (!c) return fail(400, "Bad Contact Header");
    star = star || c->star;
    Wanted w;
    w.c = std::move(*c);
    wanted.push_back(std::move(w));
  }
  if (star && (wanted.size() != 1 || !header_expires || *header_expires != 0))
    return fail(400, "Invalid Contact: * needs Expires: 0 and no other Contact");

  const std::uint32_t allow = parse_methods(m.header_values("Allow"));
  // Step 7 inputs: expiry (param, header, default), min/max, q, outbound/GRUU identity.
  for (Wanted& w : wanted) {
    if (w.c.star) continue;
    std::optional<std::int64_t> e;
    if (auto p = w.c.param("expires")) e = parse_seconds(*p);
    if (!e) e = header_expires;
    w.expires = e ? *e : cfg.default_expires;
    if (w.expires > 0 && cfg.min_expires > 0 && w.expires < cfg.min_expires) {
      return fail(423, "Interval Too Brief",
                  "Min-Expires: " + std::to_string(cfg.min_expires) + "\r\n");
    }
    if (cfg.max_expires > 0 && w.expires > cfg.max_expires) w.expires = cfg.max_expires;
    if (auto q = w.c.param("q")) {
      auto v = parse_q(*q);
      if (!v) return fail(400, "Bad q Value");
      w.q = *v;
    }
    if (auto inst = w.c.param("+sip.instance")) w.instance = unquote(*inst);
    if (auto rid = w.c.param("reg-id")) {
      auto v = parse_seconds(*rid);
      if (!v || *v == 0 || w.instance.empty()) return fail(400, "Bad reg-id");
      w.reg_id = static_cast<std::uint32_t>(*v);
    }
    if (!sipproxy::Uri::parse(w.c.uri)) return fail(400, "Bad Contact URI");
    // What the contact accepts (lookup's method_filtering): its `methods` parameter, else
    // the REGISTER's Allow, else everything (Kamailio's order).
    if (auto mp = w.c.param("methods")) {
      w.methods = parse_methods({unquote(*mp)});
    } else {
      w.methods = allow;
    }
  }

  const sipproxy::Peer src = call.source();
  const sipproxy::Peer local = call.local();
  const std::string socket = local.proto + ":" + local.ip + ":" + std::to_string(local.port);
  const std::string call_id(m.call_id());
  const std::uint32_t cseq = m.cseq();
  std::string user_agent;
  if (auto ua = m.header_values("User-Agent"); !ua.empty()) user_agent = ua[0];
  const bool nat = cfg.nat_flag >= 0 && call.flag(cfg.nat_flag);
  std::optional<std::string> received_avp = call.avp(cfg.received_avp);

  int code = 200;
  std::string reason;
  bool inserted = false, updated = false, deleted = false;
  std::vector<Binding> current;
  const std::int64_t now = loc.now();
  loc.update(aor, [&](std::vector<Binding>& bindings) {
    if (star) {
      for (const Binding& b : bindings) {
        if (b.call_id == call_id && cseq <= b.cseq) {
          code = 500, reason = "Invalid CSeq number";
          return false;
        }
      }
      deleted = !bindings.empty();
      bindings.clear();
      current.clear();
      return deleted;
    }
    std::vector<Binding> work = bindings;
    std::set<std::string> touched;  // ruids of this request's bindings
    for (const Wanted& w : wanted) {
      auto it =
          std::find_if(work.begin(), work.end(), [&](const Binding& b) { return same_flow(b, w); });
      if (it != work.end() && it->call_id == call_id && cseq <= it->cseq) {
        if (cseq < it->cseq) {
          code = 500, reason = "Invalid CSeq number";
          return false;
        }
        touched.insert(it->ruid);  // a retransmission: keep the binding as it is
        continue;
      }
      if (w.expires == 0) {
        if (it != work.end()) work.erase(it), deleted = true;
        continue;
      }
      Binding b = it != work.end() ? *it : Binding{};
      b.contact = w.c.uri;
      b.expires = now + w.expires;
      b.q = w.q;
      b.call_id = call_id;
      b.cseq = cseq;
      b.path = path;
      b.proto = src.proto;
      b.source_ip = src.ip;
      b.source_port = src.port;
      b.socket = socket;
      b.connection_id = call.connection_id();
      b.user_agent = user_agent;
      b.instance = w.instance;
      b.reg_id = w.reg_id;
      b.methods = w.methods;
      b.last_modified = now;
      b.flags = (flags & kSaveMemOnly) ? sipproxy::usrloc::kFlagMemOnly : 0;
      auto host = sipproxy::Uri::parse(b.contact)->host;
      b.received.clear();
      if (received_avp) {
        b.received = *received_avp;
      } else if (nat || src.proto == "ws" || src.proto == "wss" || ends_with(host, ".invalid")) {
        b.received = source_uri(src);
      }
      if (!b.received.empty()) b.flags |= sipproxy::usrloc::kFlagNat;
      if (it != work.end()) {
        *it = std::move(b);
        updated = true;
        touched.insert(it->ruid);
      } else {
        b.ruid = loc.make_ruid(aor);
        touched.insert(b.ruid);
        work.push_back(std::move(b));
        inserted = true;
      }
    }
    if ((flags & kSaveSingle) && !touched.empty()) {
      std::size_t before = work.size();
      std::erase_if(work, [&](const Binding& b) { return !touched.count(b.ruid); });
      deleted = deleted || work.size() != before;
    }
    const std::size_t max = loc.max_contacts();
    if (max > 0 && work.size() > max) {
      if (!loc.drop_oldest_on_max()) {
        code = 503, reason = "Too Many Registered Contacts";
        return false;
      }
      std::stable_sort(work.begin(), work.end(), [](const Binding& a, const Binding& b) {
        return a.last_modified < b.last_modified;
      });
      work.erase(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(work.size() - max));
    }
    bindings = std::move(work);
    current = bindings;
    return inserted || updated || deleted;
  });
  if (code != 200) return fail(code, reason);

  // Step 8: every current binding with its remaining time.
  std::string extra;
  const bool gruu = cfg.gruu_enabled && lists_token(supported, "gruu");
  bool flow = false;
  for (const Binding& b : current) {
    extra += contact_line(b, now, gruu, *to);
    flow = flow || b.reg_id != 0;
  }
  if (!path.empty() && (cfg.path_mode == 2 || (cfg.path_mode == 1 && path_supported))) {
    for (const std::string& p : path) extra += "Path: " + p + "\r\n";
  }
  if (flow && lists_token(supported, "outbound")) extra += "Require: outbound\r\n";
  extra += "Date: " + http_date(now) + "\r\n";
  if (reply && call.reply(200, "OK", extra) < 0) return -1;
  if (inserted) return 1;
  if (updated) return 2;
  if (deleted) return 3;
  return 4;
}

}  // namespace strowger::modules::registrar
