// OpenSSL (libcrypto) wrapped once for the auth module: MD5, SHA-256, HMAC-SHA256, random bytes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace strowger::modules::auth {

enum class Algorithm { kMd5, kSha256 };

// Lower-case hex digest of data (32 chars for MD5, 64 for SHA-256).
std::string hex_digest(Algorithm algorithm, std::string_view data);
// Raw HMAC-SHA256 (32 bytes) of data with key.
std::string hmac_sha256(std::string_view key, std::string_view data);
// n bytes from the OpenSSL CSPRNG; empty on failure (callers treat that as a start-up error).
std::string random_bytes(std::size_t n);
// Lower-case hex of raw bytes.
std::string to_hex(std::string_view bytes);
// Compares without an early exit, so the time taken says nothing about where a guess differs.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace strowger::modules::auth
