// Bencode values, a bounded decoder (whole input, one-value prefix, allocation-free scan) and an
// encoder, for the ng control protocol spoken between sipproxy and rtprelay (or rtpengine).
//
// Dictionaries keep their keys in the order received, because rtpengine and Kamailio send them
// unsorted; the encoder emits them sorted, as the bencode specification asks. Decoding is
// bounded in nesting depth and size, so hostile input is refused, never a crash or a deep
// recursion.
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"

namespace strowger::common::bencode {

class Value;
class Dict;
using List = std::vector<Value>;
struct DictItem;

// Keys in arrival order (or insertion order); lookups are linear, which beats hashing for the
// dozen keys of an ng message. Decoded dictionaries never hold a key twice.
class Dict {
 public:
  Dict() = default;
  Dict(const Dict&);
  Dict(Dict&&) noexcept;
  Dict& operator=(const Dict&);
  Dict& operator=(Dict&&) noexcept;
  ~Dict();

  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  // Replaces the value of an existing key in place, or appends the key.
  Value& set(std::string_view key, Value value);
  // Appends without looking for the key first (the decoder refuses duplicates afterwards).
  Value& push_back(std::string key, Value value);
  bool erase(std::string_view key);
  void clear();
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  const DictItem& item(std::size_t i) const;
  DictItem& item(std::size_t i);

  // Typed lookups: nullopt / nullptr when the key is absent or holds another type.
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<std::int64_t> get_int(std::string_view key) const;
  const List* get_list(std::string_view key) const;
  const Dict* get_dict(std::string_view key) const;
  // A list of strings (the ng `flags`, `replace`, `SDES`...): nullopt when the key is absent,
  // is not a list, or holds a non-string element.
  std::optional<std::vector<std::string_view>> get_string_list(std::string_view key) const;
  // True when `key` is a list holding the string `word` (e.g. has_in_list("flags",
  // "trust-address")).
  bool has_in_list(std::string_view key, std::string_view word) const;

  bool operator==(const Dict& other) const;  // same keys, same order, equal values

 private:
  std::vector<DictItem> items_;
};

class Value {
 public:
  enum class Type { kInt, kString, kList, kDict };

  Value() : v_(std::int64_t{0}) {}
  // Any integer type (so dict.set("port", port) reads naturally); unsigned values above
  // INT64_MAX wrap, which no ng key needs.
  template <std::integral T>
  requires(!std::same_as<T, bool>) Value(T i)
      : v_(static_cast<std::int64_t>(i)) {}          // NOLINT: implicit by design
  Value(std::string s) : v_(std::move(s)) {}         // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}       // NOLINT
  Value(List l) : v_(std::move(l)) {}                // NOLINT
  Value(Dict d) : v_(std::move(d)) {}                // NOLINT

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_int() const { return type() == Type::kInt; }
  bool is_string() const { return type() == Type::kString; }
  bool is_list() const { return type() == Type::kList; }
  bool is_dict() const { return type() == Type::kDict; }

  // nullptr / nullopt when the value holds another type.
  std::optional<std::int64_t> as_int() const;
  const std::string* as_string() const { return std::get_if<std::string>(&v_); }
  std::string* as_string() { return std::get_if<std::string>(&v_); }
  const List* as_list() const { return std::get_if<List>(&v_); }
  List* as_list() { return std::get_if<List>(&v_); }
  const Dict* as_dict() const { return std::get_if<Dict>(&v_); }
  Dict* as_dict() { return std::get_if<Dict>(&v_); }

  bool operator==(const Value& other) const { return v_ == other.v_; }

 private:
  std::variant<std::int64_t, std::string, List, Dict> v_;
};

struct DictItem {
  std::string key;
  Value value;
  bool operator==(const DictItem& o) const { return key == o.key && value == o.value; }
};

struct DecodeLimits {
  std::size_t max_depth = 32;       // lists and dicts nested deeper are invalid
  std::size_t max_size = 1u << 20;  // a value longer than this many bytes is invalid
};

enum class DecodeStatus {
  kOk,
  kIncomplete,  // the input ends inside the value: wait for more bytes (TCP)
  kInvalid,     // no more bytes can make this a value; `error` says why
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kInvalid;
  Value value;               // when kOk
  std::size_t consumed = 0;  // when kOk: bytes the value used, from the start of the input
  std::string error;         // when kInvalid: reason with the byte offset
};

// Decodes the one value at the start of `in`; bytes after it are left alone (`consumed`).
DecodeResult decode_prefix(std::string_view in, const DecodeLimits& limits = {});

// Like decode_prefix but builds nothing and allocates nothing: finds where the value ends,
// for framing a stream before decoding it.
struct ScanResult {
  DecodeStatus status = DecodeStatus::kInvalid;
  std::size_t consumed = 0;
  std::string error;
};
ScanResult scan_prefix(std::string_view in, const DecodeLimits& limits = {});

// Decodes `in` as exactly one value: a truncated value or trailing bytes are errors.
Result<Value> decode(std::string_view in, const DecodeLimits& limits = {});

// Appends the encoding of `v` to `out` (dict keys sorted byte-wise).
void encode_to(const Value& v, std::string& out);
void encode_to(const Dict& d, std::string& out);
std::string encode(const Value& v);
std::string encode(const Dict& d);

}  // namespace strowger::common::bencode
