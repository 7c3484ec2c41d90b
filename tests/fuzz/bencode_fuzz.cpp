// libFuzzer target for the bencode decoder: decode, scan and prefix decode must agree, never
// crash, and whatever decodes must re-encode to bytes that decode to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/bencode.h"

using namespace strowger::common::bencode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  DecodeLimits limits;
  limits.max_depth = 16;
  limits.max_size = 64 * 1024;

  DecodeResult prefix = decode_prefix(in, limits);
  ScanResult scan = scan_prefix(in, limits);
  // The scanner frames exactly like the decoder, except that it does not look for duplicate
  // keys (a question about the value, not its framing): the decoder stops at the first
  // duplicate, where the scanner may go on to find the input truncated, or complete.
  bool duplicate = prefix.status == DecodeStatus::kInvalid &&
                   prefix.error.find("duplicate key") != std::string::npos;
  if (scan.status != prefix.status && !duplicate) std::abort();
  if (prefix.status == DecodeStatus::kOk) {
    if (scan.consumed != prefix.consumed || prefix.consumed > size) std::abort();
    std::string wire = encode(prefix.value);
    auto again = decode(wire, DecodeLimits{16, wire.size() + 1});
    if (!again.ok() || !(again.value() == prefix.value)) {
      // Re-encoding sorts keys: equal as dictionaries means equal after sorting both.
      if (!again.ok() || encode(again.value()) != wire) std::abort();
    }
  }
  auto whole = decode(in, limits);
  if (whole.ok() != (prefix.status == DecodeStatus::kOk && prefix.consumed == size)) std::abort();
  if (whole.ok()) {
    if (const Dict* d = whole.value().as_dict()) {
      (void)d->get_string("command");
      (void)d->get_string_list("flags");
      (void)d->has_in_list("replace", "origin");
    }
  }
  return 0;
}
