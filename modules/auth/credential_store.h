// CredentialStore: the subscribers auth checks against, from the subscriber file (default) or
// preloaded from PostgreSQL tables and refreshed on a timer; snapshots swapped atomically so
// workers never wait for a reload or for the database.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "modules/auth/subscribers.h"

namespace strowger::modules::auth {

struct StoreOptions {
  std::string file_path;  // used when db_url is empty
  std::string db_url;
  int db_timeout_s = 3;
  std::int64_t refresh_ms = 60000;  // cache_ttl: how old a database snapshot may get
  std::int64_t retry_ms = 5000;     // after a failed database read
};

class CredentialStore {
 public:
  explicit CredentialStore(StoreOptions options) : options_(std::move(options)) {}

  bool uses_db() const { return !options_.db_url.empty(); }
  // A table the script names (database mode loads each named table).
  void add_table(const std::string& table);
  // Reads everything now. On error the previous data stays and the error is returned
  // ("file:line: ..." for the file, "postgresql: ..." for the database).
  std::optional<std::string> load();
  // Database mode, from the timer: reloads when the snapshot is older than refresh_ms (or
  // retry_ms after a failure). Logs only when the state changes (ok <-> failing).
  void tick(std::int64_t now_ms);
  // The subscribers of table (the file ignores the table name); nullptr when not loaded.
  std::shared_ptr<const SubscriberSet> get(std::string_view table) const;
  std::size_t size() const;  // subscribers over all tables
  const StoreOptions& options() const { return options_; }

 private:
  using Tables = std::map<std::string, std::shared_ptr<const SubscriberSet>, std::less<>>;

  StoreOptions options_;
  std::mutex load_mutex_;  // one reload at a time (timer thread vs sipctl)
  std::mutex tables_mutex_;
  std::set<std::string> tables_;
  std::atomic<std::shared_ptr<const SubscriberSet>> file_set_;
  std::atomic<std::shared_ptr<const Tables>> db_sets_;
  std::int64_t next_refresh_ms_ = 0;
  bool db_failing_ = false;
};

}  // namespace strowger::modules::auth
