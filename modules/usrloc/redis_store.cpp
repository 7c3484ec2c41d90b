// RedisStore: hiredis (blocking load, async write-through per worker loop, pub/sub sync).
#include "modules/usrloc/redis_store.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "common/log.h"

namespace strowger::modules::usrloc {

constexpr const char* kChannel = "ul:events";
constexpr const char* kPrefix = "ul:";

struct RedisStore::Conn {
  RedisStore* store = nullptr;
  int index = 0;
  event_base* loop = nullptr;
  redisAsyncContext* cmd = nullptr;  // commands; owned by hiredis once connected
  redisAsyncContext* sub = nullptr;  // worker 0: SUBSCRIBE
  event* retry = nullptr;
  bool up = false;
  bool stopping = false;
};

namespace {

thread_local RedisStore::Conn* t_conn = nullptr;

void connect_all(RedisStore::Conn& c);

void on_retry(evutil_socket_t, short, void* arg) {
  connect_all(*static_cast<RedisStore::Conn*>(arg));
}

void schedule_retry(RedisStore::Conn& c) {
  if (c.stopping || !c.retry) return;
  timeval one_second{1, 0};
  evtimer_add(c.retry, &one_second);
}

}  // namespace

std::optional<RedisTarget> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  url.remove_prefix(kScheme.size());
  RedisTarget t;
  std::size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string db(url.substr(slash + 1));
    if (!db.empty()) {
      if (db.find_first_not_of("0123456789") != std::string::npos || db.size() > 4)
        return std::nullopt;
      t.db = std::stoi(db);
    }
  }
  std::size_t colon = hostport.rfind(':');
  if (colon != std::string_view::npos) {
    std::string port(hostport.substr(colon + 1));
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    t.port = std::stoi(port);
    if (t.port < 1 || t.port > 65535) return std::nullopt;
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty()) return std::nullopt;
  t.host = std::string(hostport);
  return t;
}

std::string bindings_to_json(const std::vector<Binding>& bindings) {
  nlohmann::json a = nlohmann::json::array();
  for (const Binding& b : bindings) {
    a.push_back({{"c", b.contact},
                 {"e", b.expires},
                 {"q", b.q},
                 {"ci", b.call_id},
                 {"cs", b.cseq},
                 {"p", b.path},
                 {"r", b.received},
                 {"pr", b.proto},
                 {"ip", b.source_ip},
                 {"pt", b.source_port},
                 {"s", b.socket},
                 {"cn", b.connection_id},
                 {"ua", b.user_agent},
                 {"in", b.instance},
                 {"ri", b.reg_id},
                 {"id", b.ruid},
                 {"f", b.flags},
                 {"m", b.methods},
                 {"lm", b.last_modified}});
  }
  return a.dump();
}

std::optional<std::vector<Binding>> bindings_from_json(std::string_view text) {
  nlohmann::json a = nlohmann::json::parse(text, nullptr, false);
  if (!a.is_array()) return std::nullopt;
  std::vector<Binding> out;
  try {
    for (const auto& j : a) {
      Binding b;
      b.contact = j.at("c").get<std::string>();
      b.expires = j.at("e").get<std::int64_t>();
      b.q = j.value("q", -1);
      b.call_id = j.value("ci", "");
      b.cseq = j.value("cs", 0u);
      b.path = j.value("p", std::vector<std::string>{});
      b.received = j.value("r", "");
      b.proto = j.value("pr", "");
      b.source_ip = j.value("ip", "");
      b.source_port = j.value("pt", std::uint16_t{0});
      b.socket = j.value("s", "");
      // A connection belongs to the process that accepted it: not usable after a restart.
      b.connection_id = 0;
      b.user_agent = j.value("ua", "");
      b.instance = j.value("in", "");
      b.reg_id = j.value("ri", 0u);
      b.ruid = j.value("id", "");
      b.flags = j.value("f", 0u);
      b.methods = j.value("m", 0u);
      b.last_modified = j.value("lm", std::int64_t{0});
      out.push_back(std::move(b));
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a foreign or damaged value: ignored, never fatal
  }
  return out;
}

RedisStore::RedisStore(RedisTarget target, LocationTable& table,
                       std::function<void(int, std::function<void()>)> post, int workers)
    : target_(std::move(target)), table_(table), post_(std::move(post)) {
  std::random_device rd;
  origin_ = std::to_string(getpid()) + "-" + std::to_string(rd());
  for (int i = 0; i < std::max(workers, 1); ++i) {
    conns_.push_back(std::make_unique<Conn>());
    conns_.back()->store = this;
    conns_.back()->index = i;
  }
}

RedisStore::~RedisStore() = default;

void RedisStore::set_state(bool up) {
  int now = up ? 1 : 0;
  if (state_.exchange(now) == now) return;
  if (up) {
    LOG_NOTICE("usrloc: Redis %s:%d is reachable; writing through", target_.host.c_str(),
               target_.port);
  } else {
    LOG_WARN("usrloc: Redis %s:%d is unreachable; serving from memory, will resync",
             target_.host.c_str(), target_.port);
  }
}

std::optional<std::size_t> RedisStore::load() {
  timeval timeout{2, 0};
  redisContext* c = redisConnectWithTimeout(target_.host.c_str(), target_.port, timeout);
  std::unique_ptr<redisContext, void (*)(redisContext*)> guard(c, redisFree);
  if (!c || c->err) {
    set_state(false);
    return std::nullopt;
  }
  auto command = [&](auto... args) {
    return std::unique_ptr<redisReply, void (*)(void*)>(
        static_cast<redisReply*>(redisCommand(c, args...)), freeReplyObject);
  };
  if (target_.db != 0) command("SELECT %d", target_.db);
  std::size_t aors = 0;
  std::string cursor = "0";
  do {
    auto r = command("SCAN %s MATCH ul:* COUNT 1000", cursor.c_str());
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
      set_state(false);
      return std::nullopt;
    }
    cursor.assign(r->element[0]->str, r->element[0]->len);
    for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
      std::string key(r->element[1]->element[i]->str, r->element[1]->element[i]->len);
      auto v = command("GET %b", key.data(), key.size());
      if (!v || v->type != REDIS_REPLY_STRING) continue;
      auto bindings = bindings_from_json(std::string_view(v->str, v->len));
      if (!bindings) continue;
      table_.put_from_backend(key.substr(3), std::move(*bindings));
      ++aors;
    }
  } while (cursor != "0");
  set_state(true);
  return aors;
}

namespace {

void on_message(redisAsyncContext*, void* reply, void* arg) {
  auto* c = static_cast<RedisStore::Conn*>(arg);
  auto* r = static_cast<redisReply*>(reply);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
  if (std::string_view(r->element[0]->str, r->element[0]->len) != "message") return;
  std::string text(r->element[2]->str, r->element[2]->len);
  c->store->on_event(text);
}

}  // namespace

void RedisStore::on_event(const std::string& text) {
  // "<origin> <aor>": another proxy changed that AOR; read it back (ours we already have).
  std::size_t sp = text.find(' ');
  if (sp == std::string::npos || text.compare(0, sp, origin_) == 0) return;
  Conn& c = *conns_[0];
  if (!c.up || !c.cmd) return;
  auto* aor = new std::string(text.substr(sp + 1));
  std::string key = kPrefix + *aor;
  redisAsyncCommand(
      c.cmd,
      [](redisAsyncContext* ac, void* reply, void* arg) {
        std::unique_ptr<std::string> aor(static_cast<std::string*>(arg));
        auto* conn = static_cast<Conn*>(ac->data);
        auto* r = static_cast<redisReply*>(reply);
        if (!r || !conn) return;
        if (r->type == REDIS_REPLY_NIL) {
          conn->store->table_.put_from_backend(*aor, {});
        } else if (r->type == REDIS_REPLY_STRING) {
          if (auto b = bindings_from_json(std::string_view(r->str, r->len)))
            conn->store->table_.put_from_backend(*aor, std::move(*b));
        }
      },
      aor, "GET %b", key.data(), key.size());
}

namespace {

void on_cmd_connect(const redisAsyncContext* ac, int status) {
  auto* c = static_cast<RedisStore::Conn*>(ac->data);
  if (status != REDIS_OK) {
    c->cmd = nullptr;  // hiredis frees it
    c->store->connection_lost(*c);
    return;
  }
  c->store->connection_up(*c);
}

void on_cmd_disconnect(const redisAsyncContext* ac, int) {
  auto* c = static_cast<RedisStore::Conn*>(ac->data);
  c->cmd = nullptr;
  c->store->connection_lost(*c);
}

void on_sub_connect(const redisAsyncContext* ac, int status) {
  auto* c = static_cast<RedisStore::Conn*>(ac->data);
  if (status != REDIS_OK) c->sub = nullptr;
}

void on_sub_disconnect(const redisAsyncContext* ac, int) {
  static_cast<RedisStore::Conn*>(ac->data)->sub = nullptr;
}

redisAsyncContext* open_async(RedisStore::Conn& c, const RedisTarget& t,
                              void (*on_connect)(const redisAsyncContext*, int),
                              void (*on_disconnect)(const redisAsyncContext*, int)) {
  redisAsyncContext* ac = redisAsyncConnect(t.host.c_str(), t.port);
  if (!ac) return nullptr;
  if (ac->err) {
    redisAsyncFree(ac);
    return nullptr;
  }
  ac->data = &c;
  redisLibeventAttach(ac, c.loop);
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  if (t.db != 0) redisAsyncCommand(ac, nullptr, nullptr, "SELECT %d", t.db);
  return ac;
}

void connect_all(RedisStore::Conn& c) {
  if (c.stopping) return;
  const RedisTarget& t = c.store->target();
  if (!c.cmd) {
    c.cmd = open_async(c, t, on_cmd_connect, on_cmd_disconnect);
    if (!c.cmd) schedule_retry(c);
  }
  if (c.index == 0 && !c.sub) {
    c.sub = open_async(c, t, on_sub_connect, on_sub_disconnect);
    if (c.sub) redisAsyncCommand(c.sub, on_message, &c, "SUBSCRIBE %s", kChannel);
  }
}

}  // namespace

void RedisStore::connection_up(Conn& c) {
  c.up = true;
  set_state(true);
  if (c.index == 0) resync(c);
}

void RedisStore::connection_lost(Conn& c) {
  c.up = false;
  set_state(false);
  schedule_retry(c);
}

void RedisStore::start_worker(int index, event_base* loop) {
  if (index < 0 || index >= static_cast<int>(conns_.size()) || !loop) return;
  Conn& c = *conns_[index];
  c.loop = loop;
  c.retry = evtimer_new(loop, on_retry, &c);
  t_conn = &c;
  connect_all(c);
}

void RedisStore::stop_worker(int index) {
  if (index < 0 || index >= static_cast<int>(conns_.size())) return;
  Conn& c = *conns_[index];
  c.stopping = true;
  if (c.retry) event_free(c.retry), c.retry = nullptr;
  // redisAsyncFree calls the disconnect callbacks, which only clear the pointers now.
  if (c.cmd) redisAsyncFree(c.cmd);
  if (c.sub) redisAsyncFree(c.sub);
  c.cmd = c.sub = nullptr;
  t_conn = nullptr;
}

void RedisStore::send(Conn& c, const std::string& aor, const std::string& json, std::int64_t exat) {
  if (!c.up || !c.cmd) return;  // down: memory serves; resync writes everything back later
  std::string key = kPrefix + aor;
  if (json.empty()) {
    redisAsyncCommand(c.cmd, nullptr, nullptr, "DEL %b", key.data(), key.size());
  } else {
    redisAsyncCommand(c.cmd, nullptr, nullptr, "SET %b %b EXAT %lld", key.data(), key.size(),
                      json.data(), json.size(), static_cast<long long>(exat));
  }
  std::string event = origin_ + " " + aor;
  redisAsyncCommand(c.cmd, nullptr, nullptr, "PUBLISH %s %b", kChannel, event.data(), event.size());
}

void RedisStore::write(const std::string& aor, const std::vector<Binding>& bindings) {
  std::int64_t exat = 0;
  for (const Binding& b : bindings) exat = std::max(exat, b.expires);
  std::string json = bindings.empty() ? std::string() : bindings_to_json(bindings);
  if (t_conn && t_conn->store == this) {
    send(*t_conn, aor, json, exat);
    return;
  }
  // Control or timer thread: worker 0 sends it.
  Conn* c0 = conns_[0].get();
  post_(0, [this, c0, aor, json = std::move(json), exat] { send(*c0, aor, json, exat); });
}

void RedisStore::resync(Conn& c) {
  // Redis came back (or started after us): it gets the table as this proxy knows it.
  std::size_t n = 0;
  table_.for_each([&](const std::string& aor, const std::vector<Binding>& bindings) {
    std::vector<Binding> persistent;
    std::int64_t exat = 0;
    for (const Binding& b : bindings) {
      if (b.flags & sipproxy::usrloc::kFlagMemOnly) continue;
      persistent.push_back(b);
      exat = std::max(exat, b.expires);
    }
    if (persistent.empty()) return;
    send(c, aor, bindings_to_json(persistent), exat);
    ++n;
  });
  LOG_INFO("usrloc: resynced %zu AOR(s) to Redis", n);
}

}  // namespace strowger::modules::usrloc
