// RelaySet: relay URLs, Call-ID affinity by weighted rendezvous hashing, failover on timeout,
// health-check pings.
#include "modules/rtprelay/relay_set.h"

#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "common/log.h"

namespace strowger::modules::rtprelay {
namespace {

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// splitmix64's finaliser: FNV alone leaves the high bits poorly mixed for short strings.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Weighted rendezvous score: weight / -ln(u), u uniform in (0,1) from hash(call, relay). The
// call goes to the highest score; removing a relay moves only that relay's calls.
double score(std::string_view call_id, const RelayUrl& relay) {
  std::uint64_t h = mix(fnv1a(relay.text, fnv1a(call_id)) ^ 0x9e3779b97f4a7c15ull);
  double u = (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return static_cast<double>(relay.weight) / -std::log(u);
}

}  // namespace

common::Result<RelayUrl> parse_relay_url(std::string_view url) {
  RelayUrl out;
  std::string_view rest = url;
  int family = AF_UNSPEC;
  if (rest.substr(0, 5) == "udp6:") {
    family = AF_INET6;
    rest.remove_prefix(5);
  } else if (rest.substr(0, 4) == "udp:") {
    rest.remove_prefix(4);
  } else if (rest.find("://") != std::string_view::npos || rest.substr(0, 4) == "tcp:" ||
             rest.substr(0, 3) == "ws:" || rest.substr(0, 4) == "wss:") {
    return common::Error{0, "relay '" + std::string(url) + "': only udp: and udp6: are supported"};
  }
  if (std::size_t eq = rest.rfind('='); eq != std::string_view::npos) {
    std::string_view w = rest.substr(eq + 1);
    unsigned weight = 0;
    if (w.empty() || w.size() > 4)
      return common::Error{0, "relay '" + std::string(url) + "': bad weight"};
    for (char c : w) {
      if (c < '0' || c > '9')
        return common::Error{0, "relay '" + std::string(url) + "': bad weight"};
      weight = weight * 10 + static_cast<unsigned>(c - '0');
    }
    if (weight < 1 || weight > 1000)
      return common::Error{0, "relay '" + std::string(url) + "': weight must be 1 to 1000"};
    out.weight = weight;
    rest = rest.substr(0, eq);
  }
  out.text =
      std::string(url.substr(0, static_cast<std::size_t>(rest.data() + rest.size() - url.data())));
  std::string host;
  std::string_view port;
  if (!rest.empty() && rest[0] == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return common::Error{0, "relay '" + std::string(url) + "': want [address]:port"};
    host = std::string(rest.substr(1, close - 1));
    port = rest.substr(close + 2);
    if (family == AF_UNSPEC) family = AF_INET6;
  } else {
    std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos)
      return common::Error{0, "relay '" + std::string(url) + "': no port"};
    host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
    return common::Error{0, "relay '" + std::string(url) + "': bad host or port"};
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_text(port);
  int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0 || !res)
    return common::Error{0, "relay '" + std::string(url) + "': " + gai_strerror(rc)};
  std::memcpy(&out.addr, res->ai_addr, std::min<std::size_t>(res->ai_addrlen, sizeof out.addr));
  freeaddrinfo(res);
  return out;
}

struct RelaySet::Attempt {
  std::string call_id;
  bencode::Dict request;
  RelayCallback done;
  std::vector<std::size_t> order;
  std::size_t next = 0;  // position in `order` to consider next
};

RelaySet::RelaySet(event_base* base, RelaySetOptions options)
    : client_(base, options.client), options_(options) {
  ping_timer_ = event_new(base, -1, EV_PERSIST, &RelaySet::on_ping_timer, this);
  timeval tv{options_.ping_interval_ms / 1000, (options_.ping_interval_ms % 1000) * 1000};
  if (ping_timer_ && options_.ping_interval_ms > 0) event_add(ping_timer_, &tv);
  no_relay_event_ = event_new(base, -1, 0, &RelaySet::on_no_relay, this);
}

RelaySet::~RelaySet() {
  if (ping_timer_) event_free(ping_timer_);
  if (no_relay_event_) event_free(no_relay_event_);
}

void RelaySet::on_no_relay(int, short, void* arg) {
  auto& self = *static_cast<RelaySet*>(arg);
  std::vector<std::shared_ptr<Attempt>> failed;
  failed.swap(self.no_relay_);
  for (auto& a : failed) a->done(common::Error{kNgNoRelay, "no rtp relay available"}, {});
}

std::optional<std::string> RelaySet::add(std::string_view url) {
  auto parsed = parse_relay_url(url);
  if (!parsed.ok()) return parsed.error().message;
  relays_.push_back(RelayState{std::move(parsed.value()), true, 0, 0});
  ping_pending_.push_back(0);
  return std::nullopt;
}

std::optional<std::string> RelaySet::add_list(std::string_view urls) {
  std::vector<RelayUrl> parsed;
  std::size_t pos = 0;
  while (pos < urls.size()) {
    std::size_t start = urls.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    std::size_t end = urls.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = urls.size();
    auto r = parse_relay_url(urls.substr(start, end - start));
    if (!r.ok()) return r.error().message;
    parsed.push_back(std::move(r.value()));
    pos = end;
  }
  if (parsed.empty()) return "no relay in '" + std::string(urls) + "'";
  for (auto& u : parsed) {
    relays_.push_back(RelayState{std::move(u), true, 0, 0});
    ping_pending_.push_back(0);
  }
  return std::nullopt;
}

std::vector<std::size_t> RelaySet::order_for(std::string_view call_id) const {
  std::vector<std::pair<double, std::size_t>> scored;
  scored.reserve(relays_.size());
  for (std::size_t i = 0; i < relays_.size(); ++i)
    scored.emplace_back(score(call_id, relays_[i].url), i);
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::size_t> order;
  order.reserve(scored.size());
  for (const auto& s : scored) order.push_back(s.second);
  return order;
}

std::size_t RelaySet::up_count() const {
  return static_cast<std::size_t>(
      std::count_if(relays_.begin(), relays_.end(), [](const RelayState& r) { return r.up; }));
}

void RelaySet::send(std::string_view call_id, bencode::Dict request, RelayCallback done) {
  auto a = std::make_shared<Attempt>();
  a->call_id = std::string(call_id);
  a->request = std::move(request);
  a->done = std::move(done);
  a->order = order_for(call_id);
  try_next(std::move(a));
}

void RelaySet::try_next(std::shared_ptr<Attempt> a) {
  while (a->next < a->order.size() && !relays_[a->order[a->next]].up) ++a->next;
  if (a->next >= a->order.size()) {
    // Failed from the event loop too, so `done` never runs inside send().
    no_relay_.push_back(std::move(a));
    event_active(no_relay_event_, EV_TIMEOUT, 0);
    return;
  }
  std::size_t index = a->order[a->next++];
  RelayState& relay = relays_[index];
  ++relay.requests;
  client_.send(relay.url.addr, a->request,
               [this, a, index](common::Result<bencode::Dict> reply) mutable {
                 RelayState& r = relays_[index];
                 if (reply.ok() || reply.error().code == kNgBadReply) {
                   a->done(std::move(reply), r.url.text);
                   return;
                 }
                 ++r.failures;
                 if (r.up) {
                   r.up = false;
                   LOG_WARN("rtprelay: relay %s marked down (%s)", r.url.text.c_str(),
                            reply.error().message.c_str());
                 }
                 try_next(std::move(a));
               });
}

void RelaySet::set_up(std::size_t index, bool up) {
  if (index < relays_.size()) relays_[index].up = up;
}

void RelaySet::check_now() {
  bencode::Dict ping;
  ping.set("command", "ping");
  for (std::size_t i = 0; i < relays_.size(); ++i) {
    if (relays_[i].up || ping_pending_[i] != 0) continue;
    ping_pending_[i] = client_.send(
        relays_[i].url.addr, ping,
        [this, i](common::Result<bencode::Dict> reply) {
          ping_pending_[i] = 0;
          if (reply.ok() && reply.value().get_string("result") == "pong" && !relays_[i].up) {
            relays_[i].up = true;
            LOG_NOTICE("rtprelay: relay %s answers again, back in use",
                       relays_[i].url.text.c_str());
          }
        },
        options_.ping_retry);
  }
}

void RelaySet::on_ping_timer(int, short, void* arg) {
  static_cast<RelaySet*>(arg)->check_now();
}

}  // namespace strowger::modules::rtprelay
