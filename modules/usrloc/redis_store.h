// RedisStore: usrloc's Redis backend. Blocking load at start; then hiredis async on each
// worker's libevent loop: write-through of every change (SET ul:<aor> JSON with EXAT, or DEL),
// a PUBLISH so other proxies on the same Redis reload that AOR, reconnect with resync.
// The only file that calls hiredis.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modules/usrloc/location_table.h"

struct event_base;

namespace strowger::modules::usrloc {

struct RedisTarget {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
};
// "redis://host:port/db" -> target; nullopt when malformed.
std::optional<RedisTarget> parse_redis_url(std::string_view url);

// Bindings <-> the JSON stored in Redis.
std::string bindings_to_json(const std::vector<Binding>& bindings);
std::optional<std::vector<Binding>> bindings_from_json(std::string_view text);

class RedisStore final : public Store {
 public:
  // post(worker, fn) runs fn on that worker's thread (ModuleHost::post_to_worker).
  RedisStore(RedisTarget target, LocationTable& table,
             std::function<void(int, std::function<void()>)> post, int workers);
  ~RedisStore() override;

  // Blocking: every stored AOR into the table. Returns the number of AORs, or nullopt when
  // Redis cannot be reached (the proxy then starts empty and resyncs when it can).
  std::optional<std::size_t> load();
  // On each worker's thread: its async connection (worker 0 also subscribes).
  void start_worker(int index, event_base* loop);
  void stop_worker(int index);

  void write(const std::string& aor, const std::vector<Binding>& bindings) override;

  struct Conn;  // one per worker (defined in the .cpp)
  // Called by the hiredis callbacks (on the worker's thread).
  void on_event(const std::string& text);
  void connection_up(Conn& c);
  void connection_lost(Conn& c);
  const RedisTarget& target() const { return target_; }

 private:
  void set_state(bool up);
  void send(Conn& c, const std::string& aor, const std::string& json, std::int64_t exat);
  void resync(Conn& c);

  RedisTarget target_;
  LocationTable& table_;
  std::function<void(int, std::function<void()>)> post_;
  std::string origin_;          // this process's id in PUBLISHed messages
  std::atomic<int> state_{-1};  // -1 unknown, 0 down, 1 up: logged on change only
  std::vector<std::unique_ptr<Conn>> conns_;
};

}  // namespace strowger::modules::usrloc
