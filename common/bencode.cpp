// Bencode decoder (bounded, strict about integers and lengths, lenient about key order) and
// encoder (sorted keys).
#include "common/bencode.h"

#include <algorithm>
#include <charconv>

namespace strowger::common::bencode {

// ---- Dict ----

Dict::Dict(const Dict&) = default;
Dict::Dict(Dict&&) noexcept = default;
Dict& Dict::operator=(const Dict&) = default;
Dict& Dict::operator=(Dict&&) noexcept = default;
Dict::~Dict() = default;

const Value* Dict::find(std::string_view key) const {
  for (const auto& it : items_)
    if (it.key == key) return &it.value;
  return nullptr;
}

Value* Dict::find(std::string_view key) {
  for (auto& it : items_)
    if (it.key == key) return &it.value;
  return nullptr;
}

Value& Dict::set(std::string_view key, Value value) {
  if (Value* v = find(key)) {
    *v = std::move(value);
    return *v;
  }
  items_.push_back(DictItem{std::string(key), std::move(value)});
  return items_.back().value;
}

Value& Dict::push_back(std::string key, Value value) {
  items_.push_back(DictItem{std::move(key), std::move(value)});
  return items_.back().value;
}

bool Dict::erase(std::string_view key) {
  auto it =
      std::find_if(items_.begin(), items_.end(), [&](const DictItem& i) { return i.key == key; });
  if (it == items_.end()) return false;
  items_.erase(it);
  return true;
}

void Dict::clear() {
  items_.clear();
}
std::size_t Dict::size() const {
  return items_.size();
}
const DictItem& Dict::item(std::size_t i) const {
  return items_[i];
}
DictItem& Dict::item(std::size_t i) {
  return items_[i];
}
bool Dict::operator==(const Dict& other) const {
  return items_ == other.items_;
}

std::optional<std::string_view> Dict::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(*v->as_string());
}

std::optional<std::int64_t> Dict::get_int(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_int() : std::nullopt;
}

const List* Dict::get_list(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_list() : nullptr;
}

const Dict* Dict::get_dict(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_dict() : nullptr;
}

std::optional<std::vector<std::string_view>> Dict::get_string_list(std::string_view key) const {
  const List* l = get_list(key);
  if (!l) return std::nullopt;
  std::vector<std::string_view> out;
  out.reserve(l->size());
  for (const Value& v : *l) {
    if (!v.is_string()) return std::nullopt;
    out.emplace_back(*v.as_string());
  }
  return out;
}

bool Dict::has_in_list(std::string_view key, std::string_view word) const {
  const List* l = get_list(key);
  if (!l) return false;
  return std::any_of(l->begin(), l->end(),
                     [&](const Value& v) { return v.is_string() && *v.as_string() == word; });
}

std::optional<std::int64_t> Value::as_int() const {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return *i;
  return std::nullopt;
}

// ---- Decoder ----

namespace {

// One recursive-descent parser for both decode (out != nullptr) and scan (out == nullptr).
// Recursion is bounded by limits.max_depth.
class Parser {
 public:
  Parser(std::string_view in, const DecodeLimits& limits)
      : in_(in.substr(0, limits.max_size)),
        truncated_(in.size() >= limits.max_size),
        limits_(limits) {}

  DecodeStatus parse(Value* out, std::size_t depth);
  std::size_t pos() const { return pos_; }
  const std::string& error() const { return error_; }

 private:
  DecodeStatus invalid(const char* what) {
    error_ = std::string(what) + " at byte " + std::to_string(pos_);
    return DecodeStatus::kInvalid;
  }
  // Out of bytes: more may complete the value, unless the size limit was already reached.
  DecodeStatus need_more() {
    if (!truncated_) return DecodeStatus::kIncomplete;
    error_ = "value longer than " + std::to_string(limits_.max_size) + " bytes";
    return DecodeStatus::kInvalid;
  }
  DecodeStatus parse_int(Value* out);
  DecodeStatus parse_string(std::string_view* out);
  DecodeStatus parse_list(Value* out, std::size_t depth);
  DecodeStatus parse_dict(Value* out, std::size_t depth);

  std::string_view in_;
  bool truncated_;
  const DecodeLimits& limits_;
  std::size_t pos_ = 0;
  std::string error_;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

DecodeStatus Parser::parse(Value* out, std::size_t depth) {
  if (pos_ >= in_.size()) return need_more();
  char c = in_[pos_];
  if (c == 'i') return parse_int(out);
  if (c == 'l') return parse_list(out, depth);
  if (c == 'd') return parse_dict(out, depth);
  if (is_digit(c)) {
    std::string_view s;
    DecodeStatus st = parse_string(&s);
    if (st == DecodeStatus::kOk && out) *out = Value(s);
    return st;
  }
  return invalid("unexpected character");
}

DecodeStatus Parser::parse_int(Value* out) {
  ++pos_;  // past 'i'
  bool negative = false;
  if (pos_ < in_.size() && in_[pos_] == '-') {
    negative = true;
    ++pos_;
  }
  std::size_t digits_start = pos_;
  std::uint64_t magnitude = 0;
  while (pos_ < in_.size() && is_digit(in_[pos_])) {
    if (pos_ - digits_start >= 19) return invalid("integer too large");
    magnitude = magnitude * 10 + static_cast<unsigned>(in_[pos_] - '0');
    ++pos_;
  }
  if (pos_ >= in_.size()) return need_more();
  if (in_[pos_] != 'e') return invalid("bad integer");
  std::size_t ndigits = pos_ - digits_start;
  if (ndigits == 0) return invalid("empty integer");
  if (ndigits > 1 && in_[digits_start] == '0') return invalid("integer with leading zero");
  if (negative && magnitude == 0) return invalid("negative zero");
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(INT64_MAX);
  if (magnitude > kMax + (negative ? 1 : 0)) return invalid("integer out of range");
  ++pos_;  // 'e'
  if (out) {
    std::int64_t v =
        negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    *out = Value(v);
  }
  return DecodeStatus::kOk;
}

DecodeStatus Parser::parse_string(std::string_view* out) {
  std::size_t digits_start = pos_;
  std::size_t len = 0;
  while (pos_ < in_.size() && is_digit(in_[pos_])) {
    if (pos_ - digits_start >= 10) return invalid("string length too large");
    len = len * 10 + static_cast<unsigned>(in_[pos_] - '0');
    ++pos_;
  }
  if (pos_ >= in_.size()) return need_more();
  if (in_[pos_] != ':') return invalid("bad string length");
  if (pos_ - digits_start > 1 && in_[digits_start] == '0')
    return invalid("string length with leading zero");
  ++pos_;  // ':'
  if (len > limits_.max_size || pos_ + len > limits_.max_size) {
    error_ = "string of " + std::to_string(len) + " bytes exceeds the size limit";
    return DecodeStatus::kInvalid;
  }
  if (pos_ + len > in_.size()) return need_more();
  *out = in_.substr(pos_, len);
  pos_ += len;
  return DecodeStatus::kOk;
}

DecodeStatus Parser::parse_list(Value* out, std::size_t depth) {
  if (depth >= limits_.max_depth) return invalid("nesting too deep");
  ++pos_;  // 'l'
  List list;
  for (;;) {
    if (pos_ >= in_.size()) return need_more();
    if (in_[pos_] == 'e') break;
    Value* slot = nullptr;
    if (out) slot = &list.emplace_back();
    DecodeStatus st = parse(slot, depth + 1);
    if (st != DecodeStatus::kOk) return st;
  }
  ++pos_;  // 'e'
  if (out) *out = Value(std::move(list));
  return DecodeStatus::kOk;
}

bool has_duplicate_key(const Dict& d) {
  std::size_t n = d.size();
  if (n < 2) return false;
  if (n <= 16) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        if (d.item(i).key == d.item(j).key) return true;
    return false;
  }
  std::vector<std::string_view> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.emplace_back(d.item(i).key);
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

DecodeStatus Parser::parse_dict(Value* out, std::size_t depth) {
  if (depth >= limits_.max_depth) return invalid("nesting too deep");
  ++pos_;  // 'd'
  Dict dict;
  for (;;) {
    if (pos_ >= in_.size()) return need_more();
    if (in_[pos_] == 'e') break;
    if (!is_digit(in_[pos_])) return invalid("dictionary key is not a string");
    std::string_view key;
    DecodeStatus st = parse_string(&key);
    if (st != DecodeStatus::kOk) return st;
    // Appended without the duplicate check of set(); duplicates are refused below in one pass.
    Value* slot = out ? &dict.push_back(std::string(key), Value()) : nullptr;
    st = parse(slot, depth + 1);
    if (st != DecodeStatus::kOk) return st;
  }
  ++pos_;  // 'e'
  if (out) {
    if (has_duplicate_key(dict)) return invalid("duplicate key in the dictionary ending");
    *out = Value(std::move(dict));
  }
  return DecodeStatus::kOk;
}

}  // namespace

DecodeResult decode_prefix(std::string_view in, const DecodeLimits& limits) {
  DecodeResult r;
  Parser p(in, limits);
  r.status = p.parse(&r.value, 0);
  if (r.status == DecodeStatus::kOk) r.consumed = p.pos();
  if (r.status == DecodeStatus::kInvalid) r.error = p.error();
  if (r.status != DecodeStatus::kOk) r.value = Value();
  return r;
}

ScanResult scan_prefix(std::string_view in, const DecodeLimits& limits) {
  ScanResult r;
  Parser p(in, limits);
  r.status = p.parse(nullptr, 0);
  if (r.status == DecodeStatus::kOk) r.consumed = p.pos();
  if (r.status == DecodeStatus::kInvalid) r.error = p.error();
  return r;
}

Result<Value> decode(std::string_view in, const DecodeLimits& limits) {
  DecodeResult r = decode_prefix(in, limits);
  if (r.status == DecodeStatus::kIncomplete) return Error{0, "truncated bencode value"};
  if (r.status == DecodeStatus::kInvalid) return Error{0, std::move(r.error)};
  if (r.consumed != in.size())
    return Error{0, "trailing bytes after the value at byte " + std::to_string(r.consumed)};
  return std::move(r.value);
}

// ---- Encoder ----

namespace {

void encode_string(std::string_view s, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, s.size());
  (void)ec;
  out.append(buf, end);
  out.push_back(':');
  out.append(s);
}

}  // namespace

void encode_to(const Dict& d, std::string& out) {
  // Sorted by raw bytes, as the specification asks; the dict itself keeps its order.
  std::vector<const DictItem*> sorted;
  sorted.reserve(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) sorted.push_back(&d.item(i));
  std::sort(sorted.begin(), sorted.end(),
            [](const DictItem* a, const DictItem* b) { return a->key < b->key; });
  out.push_back('d');
  for (const DictItem* it : sorted) {
    encode_string(it->key, out);
    encode_to(it->value, out);
  }
  out.push_back('e');
}

void encode_to(const Value& v, std::string& out) {
  switch (v.type()) {
    case Value::Type::kInt: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v.as_int());
      (void)ec;
      out.push_back('i');
      out.append(buf, end);
      out.push_back('e');
      break;
    }
    case Value::Type::kString:
      encode_string(*v.as_string(), out);
      break;
    case Value::Type::kList:
      out.push_back('l');
      for (const Value& e : *v.as_list()) encode_to(e, out);
      out.push_back('e');
      break;
    case Value::Type::kDict:
      encode_to(*v.as_dict(), out);
      break;
  }
}

std::string encode(const Value& v) {
  std::string out;
  encode_to(v, out);
  return out;
}

std::string encode(const Dict& d) {
  std::string out;
  encode_to(d, out);
  return out;
}

}  // namespace strowger::common::bencode
