// BlockingClient: a RelaySet looped on a private event_base until its callback ran; health
// synchronised with the shared RelayHealth before and after each call. HealthProbe: pings.
#include "modules/rtprelay/blocking_client.h"

#include <event2/event.h>

#include <optional>
#include <utility>

#include "common/log.h"

namespace strowger::modules::rtprelay {

RelayHealth::RelayHealth(std::size_t relays)
    : n_(relays), up_(std::make_unique<std::atomic<bool>[]>(relays)) {
  for (std::size_t i = 0; i < n_; ++i) up_[i].store(true);
}

bool RelayHealth::set(std::size_t i, bool up) {
  if (i >= n_) return false;
  return up_[i].exchange(up, std::memory_order_relaxed) != up;
}

std::size_t RelayHealth::up_count() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < n_; ++i) n += up(i) ? 1 : 0;
  return n;
}

std::int64_t worst_case_ms(const NgRetry& retry, std::size_t relays) {
  std::int64_t per_relay = 0, wait = retry.timeout_ms;
  for (int i = 0; i < retry.tries; ++i, wait *= 2) per_relay += wait;
  return per_relay * static_cast<std::int64_t>(relays);
}

common::Result<std::unique_ptr<BlockingClient>> BlockingClient::create(
    const BlockingOptions& options, std::shared_ptr<RelayHealth> health) {
  std::unique_ptr<BlockingClient> c(new BlockingClient());
  c->base_ = event_base_new();
  if (!c->base_) return common::Error{0, "event_base_new failed"};
  RelaySetOptions o;
  o.client.retry = options.retry;
  o.ping_interval_ms = 0;  // HealthProbe does the pinging, for every worker at once
  c->set_ = std::make_unique<RelaySet>(c->base_, o);
  if (auto e = c->set_->add_list(options.relays)) return common::Error{0, *e};
  if (!health || health->size() != c->set_->relays().size())
    return common::Error{0, "relay health table does not match the relay list"};
  c->health_ = std::move(health);
  return c;
}

BlockingClient::~BlockingClient() {
  set_.reset();  // frees its events before the base
  if (base_) event_base_free(base_);
}

common::Result<common::bencode::Dict> BlockingClient::call(std::string_view call_id,
                                                           common::bencode::Dict request,
                                                           std::string* relay) {
  const std::size_t n = set_->relays().size();
  for (std::size_t i = 0; i < n; ++i) set_->set_up(i, health_->up(i));
  std::optional<common::Result<common::bencode::Dict>> result;
  std::string answered;
  set_->send(call_id, std::move(request),
             [&](common::Result<common::bencode::Dict> reply, std::string_view from) {
               result.emplace(std::move(reply));
               answered = std::string(from);
             });
  // RelaySet always finishes from the loop with a callback (reply, failover exhausted, or
  // no relay); the loop cannot run dry before that, but never spin if it did.
  while (!result) {
    if (event_base_loop(base_, EVLOOP_ONCE) != 0 && !result) {
      result.emplace(common::Error{kNgNoRelay, "rtp relay request lost (event loop idle)"});
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!set_->relays()[i].up && health_->set(i, false))
      LOG_WARN("rtprelay: relay %s marked down for every worker",
               set_->relays()[i].url.text.c_str());
  }
  if (relay) *relay = answered;
  return std::move(*result);
}

common::Result<std::unique_ptr<HealthProbe>> HealthProbe::create(
    const std::string& relays, std::shared_ptr<RelayHealth> health, int timeout_ms) {
  std::unique_ptr<HealthProbe> p(new HealthProbe());
  p->base_ = event_base_new();
  if (!p->base_) return common::Error{0, "event_base_new failed"};
  // Parse through a throw-away RelaySet so the URL syntax stays in one place.
  {
    RelaySet parse(p->base_, RelaySetOptions{{}, 0, {}});
    if (auto e = parse.add_list(relays)) return common::Error{0, *e};
    for (const RelayState& r : parse.relays()) p->urls_.push_back(r.url);
  }
  if (!health || health->size() != p->urls_.size())
    return common::Error{0, "relay health table does not match the relay list"};
  p->client_ = std::make_unique<NgClient>(p->base_);
  p->health_ = std::move(health);
  p->timeout_ms_ = timeout_ms < 1 ? 1 : timeout_ms;
  return p;
}

HealthProbe::~HealthProbe() {
  client_.reset();
  if (base_) event_base_free(base_);
}

int HealthProbe::run_once() {
  common::bencode::Dict ping;
  ping.set("command", "ping");
  int pending = 0, back = 0;
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < urls_.size(); ++i) {
    if (health_->up(i)) continue;
    ++pending;
    ids.push_back(client_->send(
        urls_[i].addr, ping,
        [this, i, &pending, &back](common::Result<common::bencode::Dict> reply) {
          --pending;
          if (reply.ok() && reply.value().get_string("result") == "pong" && health_->set(i, true)) {
            ++back;
            LOG_NOTICE("rtprelay: relay %s answers ping again, back in use", urls_[i].text.c_str());
          }
        },
        NgRetry{timeout_ms_, 1}));
  }
  while (pending > 0) {
    if (event_base_loop(base_, EVLOOP_ONCE) != 0) break;
  }
  for (std::uint64_t id : ids) client_->cancel(id);  // the callbacks point at this frame
  return back;
}

}  // namespace strowger::modules::rtprelay
