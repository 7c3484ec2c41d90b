// LocationTable: sharded AOR table, packed bindings, expiry, ruids.
#include "modules/usrloc/location_table.h"

#include <chrono>
#include <cstring>
#include <random>

namespace strowger::modules::usrloc {
namespace {

struct Fixed {
  std::int64_t expires;
  std::int64_t last_modified;
  std::uint64_t connection_id;
  std::uint32_t cseq;
  std::uint32_t reg_id;
  std::uint32_t flags_methods;  // flags in the low 16 bits, the methods mask in the high 16
  std::int16_t q;
  std::uint16_t source_port;
};

constexpr std::size_t kStrings = 10;
constexpr std::size_t kMaxString = 0xffff;

std::string join_path(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) {
    if (!out.empty()) out += '\n';
    out += p;
  }
  return out;
}

std::vector<std::string> split_path(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    std::size_t nl = s.find('\n');
    out.emplace_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

std::uint32_t hash32(std::string_view s) {
  std::uint32_t h = 2166136261u;  // FNV-1a: stable across processes (ruids name the shard)
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

PackedBinding PackedBinding::pack(const Binding& b) {
  const std::string path = join_path(b.path);
  const std::string_view strs[kStrings] = {b.contact,  b.call_id,   path,     b.received,
                                           b.proto,    b.source_ip, b.socket, b.user_agent,
                                           b.instance, b.ruid};
  std::size_t size = sizeof(Fixed);
  for (auto s : strs) size += 2 + std::min(s.size(), kMaxString);
  PackedBinding p;
  p.data_ = std::make_unique_for_overwrite<char[]>(size);
  Fixed f{b.expires,
          b.last_modified,
          b.connection_id,
          b.cseq,
          b.reg_id,
          (b.flags & 0xffffu) | (b.methods << 16),
          static_cast<std::int16_t>(b.q),
          b.source_port};
  char* at = p.data_.get();
  std::memcpy(at, &f, sizeof f);
  at += sizeof f;
  for (auto s : strs) {
    auto len = static_cast<std::uint16_t>(std::min(s.size(), kMaxString));
    std::memcpy(at, &len, 2);
    std::memcpy(at + 2, s.data(), len);
    at += 2 + len;
  }
  return p;
}

Binding PackedBinding::unpack() const {
  Binding b;
  Fixed f;
  std::memcpy(&f, data_.get(), sizeof f);
  b.expires = f.expires;
  b.last_modified = f.last_modified;
  b.connection_id = f.connection_id;
  b.cseq = f.cseq;
  b.reg_id = f.reg_id;
  b.flags = f.flags_methods & 0xffffu;
  b.methods = f.flags_methods >> 16;
  b.q = f.q;
  b.source_port = f.source_port;
  std::string* outs[kStrings] = {&b.contact,   &b.call_id, nullptr,       &b.received, &b.proto,
                                 &b.source_ip, &b.socket,  &b.user_agent, &b.instance, &b.ruid};
  const char* at = data_.get() + sizeof f;
  for (std::size_t i = 0; i < kStrings; ++i) {
    std::uint16_t len;
    std::memcpy(&len, at, 2);
    std::string_view s(at + 2, len);
    if (outs[i]) {
      outs[i]->assign(s);
    } else {
      b.path = split_path(s);
    }
    at += 2 + len;
  }
  return b;
}

std::int64_t PackedBinding::expires() const {
  std::int64_t e;
  std::memcpy(&e, data_.get(), sizeof e);
  return e;
}

std::size_t PackedBinding::heap_bytes() const {
  const char* at = data_.get() + sizeof(Fixed);
  for (std::size_t i = 0; i < kStrings; ++i) {
    std::uint16_t len;
    std::memcpy(&len, at, 2);
    at += 2 + len;
  }
  return static_cast<std::size_t>(at - data_.get());
}

LocationTable::LocationTable(TableLimits limits, Clock clock)
    : limits_(limits), clock_(std::move(clock)), ruid_seed_(std::random_device{}()) {}

LocationTable::Shard& LocationTable::shard_of(std::string_view aor) const {
  return shards_[hash32(aor) % kShards];
}

std::int64_t LocationTable::now() const {
  if (clock_) return clock_();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<Binding> LocationTable::live(const std::vector<PackedBinding>& packed,
                                         std::int64_t now) {
  std::vector<Binding> out;
  out.reserve(packed.size());
  for (const auto& p : packed) {
    if (p.expires() > now) out.push_back(p.unpack());
  }
  return out;
}

void LocationTable::update(std::string_view aor,
                           const std::function<bool(std::vector<Binding>&)>& edit) {
  const std::int64_t t = now();
  Shard& s = shard_of(aor);
  std::lock_guard lock(s.mu);
  auto it = s.aors.find(std::string(aor));
  std::vector<Binding> bindings;
  if (it != s.aors.end()) bindings = live(it->second, t);
  if (!edit(bindings)) return;
  if (bindings.empty()) {
    if (it != s.aors.end()) s.aors.erase(it);
  } else {
    std::vector<PackedBinding> packed;
    packed.reserve(bindings.size());
    for (const auto& b : bindings) packed.push_back(PackedBinding::pack(b));
    if (it == s.aors.end()) {
      s.aors.emplace(std::string(aor), std::move(packed));
    } else {
      it->second = std::move(packed);
    }
  }
  if (Store* store = store_.load()) {
    std::vector<Binding> persistent;
    for (const auto& b : bindings) {
      if (!(b.flags & sipproxy::usrloc::kFlagMemOnly)) persistent.push_back(b);
    }
    store->write(std::string(aor), persistent);
  }
}

void LocationTable::put_from_backend(const std::string& aor, std::vector<Binding> bindings) {
  const std::int64_t t = now();
  Shard& s = shard_of(aor);
  std::lock_guard lock(s.mu);
  std::vector<PackedBinding> packed;
  for (const auto& b : bindings) {
    if (b.expires > t) packed.push_back(PackedBinding::pack(b));
  }
  if (packed.empty()) {
    s.aors.erase(aor);
  } else {
    s.aors[aor] = std::move(packed);
  }
}

std::vector<Binding> LocationTable::get(std::string_view aor) const {
  const std::int64_t t = now();
  Shard& s = shard_of(aor);
  std::lock_guard lock(s.mu);
  auto it = s.aors.find(std::string(aor));
  if (it == s.aors.end()) return {};
  return live(it->second, t);
}

std::optional<std::pair<std::string, Binding>> LocationTable::find_by_ruid(
    std::string_view ruid) const {
  // A ruid is "<aor hash hex>-<seed>-<n>": the hash picks the shard, a scan of it finds the AOR.
  std::uint32_t h = 0;
  if (ruid.size() < 9 || ruid[8] != '-') return std::nullopt;
  for (std::size_t i = 0; i < 8; ++i) {
    char c = ruid[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return std::nullopt;
    h = h << 4 | static_cast<std::uint32_t>(v);
  }
  const std::int64_t t = now();
  Shard& s = shards_[h % kShards];
  std::lock_guard lock(s.mu);
  for (const auto& [aor, packed] : s.aors) {
    if (hash32(aor) != h) continue;
    for (const auto& p : packed) {
      if (p.expires() <= t) continue;
      Binding b = p.unpack();
      if (b.ruid == ruid) return std::make_pair(aor, std::move(b));
    }
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, Binding>> LocationTable::find_by_source(
    std::string_view proto, std::string_view ip, std::uint16_t port,
    std::uint64_t connection_id) const {
  std::vector<std::pair<std::string, Binding>> out;
  const std::int64_t t = now();
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [aor, packed] : s.aors) {
      for (const auto& p : packed) {
        if (p.expires() <= t) continue;
        Binding b = p.unpack();
        bool match = connection_id != 0
                         ? b.connection_id == connection_id
                         : b.proto == proto && b.source_ip == ip && b.source_port == port;
        if (match) out.emplace_back(aor, std::move(b));
      }
    }
  }
  return out;
}

std::vector<std::string> LocationTable::aors() const {
  std::vector<std::string> out;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [aor, packed] : s.aors) out.push_back(aor);
  }
  return out;
}

std::size_t LocationTable::binding_count() const {
  std::size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [aor, packed] : s.aors) n += packed.size();
  }
  return n;
}

std::string LocationTable::make_ruid(std::string_view aor) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%08x-%08x-%llu", hash32(aor),
                static_cast<std::uint32_t>(ruid_seed_),
                static_cast<unsigned long long>(++ruid_counter_));
  return buf;
}

std::size_t LocationTable::expire() {
  const std::int64_t t = now();
  std::size_t removed = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (auto it = s.aors.begin(); it != s.aors.end();) {
      auto& packed = it->second;
      std::size_t before = packed.size();
      std::erase_if(packed, [t](const PackedBinding& p) { return p.expires() <= t; });
      removed += before - packed.size();
      // The backend expires its copy by itself (key TTL; expired entries are skipped on load).
      it = packed.empty() ? s.aors.erase(it) : std::next(it);
    }
  }
  return removed;
}

void LocationTable::for_each(
    const std::function<void(const std::string&, const std::vector<Binding>&)>& fn) const {
  const std::int64_t t = now();
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [aor, packed] : s.aors) fn(aor, live(packed, t));
  }
}

}  // namespace strowger::modules::usrloc
