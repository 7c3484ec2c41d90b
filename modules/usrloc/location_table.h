// LocationTable: usrloc's sharded in-memory AOR -> bindings table, bindings packed into one
// allocation each (the memory goal is < 400 bytes a binding), with expiry and a write-through
// hook for a backend (Redis).
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipproxy/usrloc.h"

namespace strowger::modules::usrloc {

using sipproxy::usrloc::Binding;

// A binding in one heap block: fixed fields, then its strings as (u16 length, bytes).
class PackedBinding {
 public:
  static PackedBinding pack(const Binding& b);
  Binding unpack() const;
  std::int64_t expires() const;
  std::size_t heap_bytes() const;

 private:
  std::unique_ptr<char[]> data_;
};

// Where changes go besides memory (Redis write-through). Called under the AOR's shard lock, so
// changes of one AOR reach it in order; it must only queue.
class Store {
 public:
  virtual ~Store() = default;
  virtual void write(const std::string& aor, const std::vector<Binding>& bindings) = 0;
};

struct TableLimits {
  std::size_t max_contacts = 0;
  bool drop_oldest = true;
};

class LocationTable final : public sipproxy::usrloc::Location {
 public:
  using Clock = std::function<std::int64_t()>;
  explicit LocationTable(TableLimits limits = {}, Clock clock = {});

  void set_store(Store* store) { store_.store(store); }

  void update(std::string_view aor,
              const std::function<bool(std::vector<Binding>&)>& edit) override;
  std::vector<Binding> get(std::string_view aor) const override;
  std::optional<std::pair<std::string, Binding>> find_by_ruid(std::string_view ruid) const override;
  std::vector<std::pair<std::string, Binding>> find_by_source(
      std::string_view proto, std::string_view ip, std::uint16_t port,
      std::uint64_t connection_id) const override;
  std::vector<std::string> aors() const override;
  std::size_t binding_count() const override;
  std::int64_t now() const override;
  std::string make_ruid(std::string_view aor) override;
  std::size_t max_contacts() const override { return limits_.max_contacts; }
  bool drop_oldest_on_max() const override { return limits_.drop_oldest; }

  // Replaces an AOR's bindings without writing through (load from the backend, another
  // proxy's change). Expired ones are left out.
  void put_from_backend(const std::string& aor, std::vector<Binding> bindings);
  // Removes expired bindings; returns how many. The timer calls it.
  std::size_t expire();
  // Every AOR with its bindings (resync to the backend, ul.dump).
  void for_each(
      const std::function<void(const std::string&, const std::vector<Binding>&)>& fn) const;

 private:
  static constexpr std::size_t kShards = 64;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::vector<PackedBinding>> aors;
  };
  Shard& shard_of(std::string_view aor) const;
  static std::vector<Binding> live(const std::vector<PackedBinding>& packed, std::int64_t now);

  TableLimits limits_;
  Clock clock_;
  std::atomic<Store*> store_{nullptr};
  std::atomic<std::uint64_t> ruid_counter_{0};
  std::uint64_t ruid_seed_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace strowger::modules::usrloc
