// The registrar's script functions over the location service: save() (RFC 3261 10.3 with
// Path, outbound and GRUU), lookup(), registered(), unregister(), with Kamailio's return codes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "sipproxy/script.h"
#include "sipproxy/usrloc.h"

namespace strowger::modules::registrar {

struct RegistrarConfig {
  std::int64_t default_expires = 3600;
  std::int64_t min_expires = 60;  // 0: no minimum
  std::int64_t max_expires = 0;   // 0: no maximum
  bool use_domain = false;        // AOR "user@domain" instead of "user" (Kamailio's use_domain)
  bool use_path = false;          // store Path headers
  int path_mode = 2;              // Kamailio's: 0 never in 200, 1 when supported, 2 require it
  bool gruu_enabled = true;
  int nat_flag = -1;                      // message flag meaning "behind NAT" (-1: none)
  std::string received_avp = "RECEIVED";  // AVP holding the received URI (fix_nated_register)
  bool method_filtering = false;          // lookup skips contacts whose Allow lacks the method (-2)
};

// The AVP lookup() leaves the R-URI branch's ruid in, read back as $ruid (a name no script
// can write: AVP names in the script are tokens without ':').
inline constexpr std::string_view kRuidAvp = "registrar:ruid";

// save() flags (Kamailio's).
inline constexpr std::int64_t kSaveMemOnly = 0x01;
inline constexpr std::int64_t kSaveNoReply = 0x02;
inline constexpr std::int64_t kSaveSingle = 0x04;

// Return codes: save 1 inserted, 2 updated, 3 deleted, 4 bindings returned, -1 error (replied).
int save(sipproxy::ScriptCall& call, sipproxy::usrloc::Location& loc, const RegistrarConfig& cfg,
         std::int64_t flags);
// 1 found (R-URI / branches set), -1 no contact, -2 method not allowed, -3 internal error.
int lookup(sipproxy::ScriptCall& call, const sipproxy::usrloc::Location& loc,
           const RegistrarConfig& cfg, std::string_view uri);
// Kamailio's lookup_branches: the R-URI and every appended branch whose URI is ours
// (is_myself) and registered are replaced by their contacts; the others stay as they were.
// 1 when at least one was resolved, else -2 when contacts were found but none allows the
// method, -1 otherwise.
int lookup_branches(sipproxy::ScriptCall& call, const sipproxy::usrloc::Location& loc,
                    const RegistrarConfig& cfg);
int registered(sipproxy::ScriptCall& call, const sipproxy::usrloc::Location& loc,
               const RegistrarConfig& cfg, std::string_view uri);
// Removes the AOR's bindings (or only the one with ruid): 1 removed, -1 none.
int unregister(sipproxy::ScriptCall& call, sipproxy::usrloc::Location& loc,
               const RegistrarConfig& cfg, std::string_view uri, std::string_view ruid);

// The methods mask of Binding::methods: bit (1 << Method); 0 for an empty list. Unknown
// method names take the kUnknown bit.
std::uint32_t method_bit(proxy::sip::Method m);
std::uint32_t parse_methods(const std::vector<std::string>& lists);  // "INVITE, BYE" values

// The AOR key of a URI: "user" or "user@host" (host lower case); empty when the URI is bad.
std::string aor_of(std::string_view uri, bool use_domain);
// RFC 1123 date for the Date header.
std::string http_date(std::int64_t unix_seconds);

}  // namespace strowger::modules::registrar
