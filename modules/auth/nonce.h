// Nonces: HMAC-SHA256-signed (server secret) with their creation time, and the nonce-count
// table that refuses a reused nc (replay) — shared by the workers, bounded, lock-striped.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strowger::modules::auth {

struct NonceFields {
  std::int64_t created_s = 0;  // wall clock (several proxies may share the secret)
  std::uint64_t serial = 0;    // slot in the nonce-count table
  std::uint32_t tag = 0;       // random, tells apart nonces that share a slot over time
};

// 72 hex chars: created(8) serial(8) tag(4) bytes + the first 16 bytes of
// HMAC-SHA256(secret, those 20 bytes).
class NonceCodec {
 public:
  explicit NonceCodec(std::string secret) : secret_(std::move(secret)) {}
  std::string make(const NonceFields& fields) const;
  // nullopt when the nonce was not made with our secret (forged, truncated, garbage).
  std::optional<NonceFields> verify(std::string_view nonce) const;

 private:
  std::string secret_;
};

// Highest nc seen per nonce, in a fixed array of 2^k slots (nonce serial modulo size): a new
// nonce takes the slot of the one issued size nonces earlier, so memory is bounded and the
// oldest nonces are forgotten first; a forgotten nonce is answered as stale, never accepted.
class NonceCountTable {
 public:
  enum class Check { kOk, kReused, kUnknown };

  explicit NonceCountTable(std::size_t size_order);  // 2^size_order slots
  // A fresh serial for a nonce about to be sent; its slot now belongs to (serial, tag).
  std::uint64_t issue(std::uint32_t tag);
  // nc from a response with qop: kOk (and remembered) when above every nc seen for the nonce.
  Check use(const NonceFields& nonce, std::uint32_t nc);
  // A response without qop/nc (RFC 2069 clients): the nonce is good for one request only.
  Check use_once(const NonceFields& nonce);
  std::size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    std::uint64_t serial = 0;
    std::uint32_t tag = 0;
    std::uint32_t max_nc = 0;
  };
  static constexpr std::size_t kLocks = 64;
  std::mutex& lock_of(std::uint64_t serial) { return locks_[serial % kLocks]; }

  std::vector<Slot> slots_;
  std::uint64_t mask_;
  std::atomic<std::uint64_t> next_serial_{1};
  std::array<std::mutex, kLocks> locks_;
};

}  // namespace strowger::modules::auth
