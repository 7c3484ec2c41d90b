// Loading and swapping subscriber snapshots (file or PostgreSQL).
#include "modules/auth/credential_store.h"

#include "common/log.h"
#include "modules/auth/subscriber_db.h"

namespace strowger::modules::auth {

void CredentialStore::add_table(const std::string& table) {
  std::lock_guard lock(tables_mutex_);
  tables_.insert(table);
}

std::optional<std::string> CredentialStore::load() {
  std::lock_guard load_lock(load_mutex_);
  if (!uses_db()) {
    auto set = load_subscriber_file(options_.file_path);
    if (!set.ok()) return set.error().message;
    file_set_.store(set.value());
    return std::nullopt;
  }
  std::set<std::string> names;
  {
    std::lock_guard lock(tables_mutex_);
    names = tables_;
  }
  auto current = db_sets_.load();
  auto next = std::make_shared<Tables>(current ? *current : Tables{});
  for (const std::string& table : names) {
    auto set = load_subscriber_table(options_.db_url, table, options_.db_timeout_s);
    if (!set.ok()) return set.error().message;  // nothing swapped: all tables or none
    (*next)[table] = set.value();
  }
  db_sets_.store(std::move(next));
  return std::nullopt;
}

void CredentialStore::tick(std::int64_t now_ms) {
  if (!uses_db() || now_ms < next_refresh_ms_) return;
  std::optional<std::string> err = load();
  if (err) {
    if (!db_failing_)
      LOG_ERROR("auth: cannot read subscribers (%s); keeping the last data, retrying every %llds",
                err->c_str(), static_cast<long long>(options_.retry_ms / 1000));
    db_failing_ = true;
    next_refresh_ms_ = now_ms + options_.retry_ms;
    return;
  }
  if (db_failing_) LOG_NOTICE("auth: subscriber table readable again (%zu subscribers)", size());
  db_failing_ = false;
  next_refresh_ms_ = now_ms + options_.refresh_ms;
}

std::shared_ptr<const SubscriberSet> CredentialStore::get(std::string_view table) const {
  if (!uses_db()) return file_set_.load();
  auto tables = db_sets_.load();
  if (!tables) return nullptr;
  auto it = tables->find(table);
  return it == tables->end() ? nullptr : it->second;
}

std::size_t CredentialStore::size() const {
  if (!uses_db()) {
    auto set = file_set_.load();
    return set ? set->size() : 0;
  }
  auto tables = db_sets_.load();
  std::size_t n = 0;
  if (tables)
    for (const auto& [name, set] : *tables) n += set->size();
  return n;
}

}  // namespace strowger::modules::auth
