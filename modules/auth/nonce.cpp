// Nonce signing/verification and the nonce-count replay table.
#include "modules/auth/nonce.h"

#include "modules/auth/crypto.h"

namespace strowger::modules::auth {
namespace {

constexpr std::size_t kFieldBytes = 20;
constexpr std::size_t kMacBytes = 16;

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // we only ever send lower case
}

}  // namespace

std::string NonceCodec::make(const NonceFields& f) const {
  std::string raw;
  raw.reserve(kFieldBytes + kMacBytes);
  put_be(raw, static_cast<std::uint64_t>(f.created_s), 8);
  put_be(raw, f.serial, 8);
  put_be(raw, f.tag, 4);
  raw += hmac_sha256(secret_, raw).substr(0, kMacBytes);
  return to_hex(raw);
}

std::optional<NonceFields> NonceCodec::verify(std::string_view nonce) const {
  if (nonce.size() != 2 * (kFieldBytes + kMacBytes)) return std::nullopt;
  std::string raw;
  raw.reserve(kFieldBytes + kMacBytes);
  for (std::size_t i = 0; i < nonce.size(); i += 2) {
    int hi = hex_value(nonce[i]), lo = hex_value(nonce[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  std::string_view fields(raw.data(), kFieldBytes);
  std::string mac = hmac_sha256(secret_, fields);
  if (mac.size() < kMacBytes || !constant_time_equal(std::string_view(mac).substr(0, kMacBytes),
                                                     std::string_view(raw).substr(kFieldBytes)))
    return std::nullopt;
  NonceFields f;
  f.created_s = static_cast<std::int64_t>(get_be(raw, 0, 8));
  f.serial = get_be(raw, 8, 8);
  f.tag = static_cast<std::uint32_t>(get_be(raw, 16, 4));
  return f;
}

NonceCountTable::NonceCountTable(std::size_t size_order)
    : slots_(std::size_t{1} << size_order), mask_((std::uint64_t{1} << size_order) - 1) {}

std::uint64_t NonceCountTable::issue(std::uint32_t tag) {
  std::uint64_t serial = next_serial_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(lock_of(serial));
  slots_[serial & mask_] = Slot{serial, tag, 0};
  return serial;
}

NonceCountTable::Check NonceCountTable::use(const NonceFields& nonce, std::uint32_t nc) {
  std::lock_guard lock(lock_of(nonce.serial));
  Slot& s = slots_[nonce.serial & mask_];
  if (s.serial != nonce.serial || s.tag != nonce.tag) return Check::kUnknown;
  if (nc <= s.max_nc) return Check::kReused;
  s.max_nc = nc;
  return Check::kOk;
}

NonceCountTable::Check NonceCountTable::use_once(const NonceFields& nonce) {
  std::lock_guard lock(lock_of(nonce.serial));
  Slot& s = slots_[nonce.serial & mask_];
  if (s.serial != nonce.serial || s.tag != nonce.tag) return Check::kUnknown;
  if (s.max_nc != 0) return Check::kReused;
  s.max_nc = UINT32_MAX;
  return Check::kOk;
}

}  // namespace strowger::modules::auth
