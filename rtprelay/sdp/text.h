// Small string helpers the SDP parser and writer share (internal to rtprelay/sdp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strowger::rtprelay::sdp {

// Splits a field list on spaces and tabs; SDP says one space, senders sometimes use more.
class Tokens {
 public:
  explicit Tokens(std::string_view s) : rest_(s) {}
  std::string_view next() {
    skip();
    std::size_t i = 0;
    while (i < rest_.size() && rest_[i] != ' ' && rest_[i] != '\t') i++;
    std::string_view token = rest_.substr(0, i);
    rest_.remove_prefix(i);
    return token;
  }
  bool done() {
    skip();
    return rest_.empty();
  }
  // What is left after the tokens taken so far, with its original spacing.
  std::string_view rest() const { return rest_; }

 private:
  void skip() {
    while (!rest_.empty() && (rest_.front() == ' ' || rest_.front() == '\t'))
      rest_.remove_prefix(1);
  }
  std::string_view rest_;
};

inline std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

inline std::optional<uint32_t> parse_u32(std::string_view s) {
  std::optional<uint64_t> v = parse_u64(s);
  if (!v || *v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

// A run of decimal digits; o= ids are 64-bit by RFC but some senders write more digits.
inline bool is_digits(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Adds one to a decimal string of any length ("99" -> "100"), so that a 64-bit o= version
// at its maximum still moves forward instead of wrapping.
inline std::string increment_decimal(std::string_view s) {
  std::string out(s);
  for (std::size_t i = out.size(); i-- > 0;) {
    if (out[i] != '9') {
      out[i]++;
      return out;
    }
    out[i] = '0';
  }
  return "1" + out;
}

}  // namespace strowger::rtprelay::sdp
