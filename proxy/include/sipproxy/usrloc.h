// The location service usrloc provides (ModuleHost::find(kUsrlocService)): AOR -> bindings, for
// registrar (save/lookup) and for later modules that reach a contact by its received address or
// connection (nathelper keepalives, WebSocket routing).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strowger::sipproxy::usrloc {

inline constexpr const char* kUsrlocService = "usrloc";

// Binding flags (Kamailio's contact flags).
inline constexpr std::uint32_t kFlagNat = 1;      // behind NAT: route to the received address
inline constexpr std::uint32_t kFlagMemOnly = 2;  // save() flag 0x01: not written to Redis

// One Contact of an AOR (RFC 3261 10.3), with what the REGISTER arrived on.
struct Binding {
  std::string contact;       // the Contact URI as registered
  std::int64_t expires = 0;  // absolute, unix seconds
  int q = -1;                // 0..1000, -1: not given
  std::string call_id;
  std::uint32_t cseq = 0;
  std::vector<std::string> path;  // Path header values of the REGISTER (RFC 3327), in order
  // Kamailio's "received": a URI for the source when the contact is behind NAT, else empty.
  std::string received;
  std::string proto;  // source of the REGISTER: "udp", "tcp", "tls", "ws", "wss"
  std::string source_ip;
  std::uint16_t source_port = 0;
  std::string socket;               // local socket it arrived on, "udp:127.0.0.1:5060"
  std::uint64_t connection_id = 0;  // 0 for UDP
  std::string user_agent;
  std::string instance;            // +sip.instance value without quotes: "<urn:uuid:...>"
  std::uint32_t reg_id = 0;        // RFC 5626 reg-id, 0: none
  std::string ruid;                // unique id of this binding (temp-gruu, unregister by ruid)
  std::uint32_t flags = 0;         // kFlag* (usrloc packs them in 16 bits)
  // Methods the contact accepts, from the REGISTER's Allow header or the Contact's `methods`
  // parameter: bit (1 << sip::Method value), 15 bits at most; 0: not said, so all of them.
  std::uint32_t methods = 0;
  std::int64_t last_modified = 0;  // unix seconds
};

// The table. Thread-safe: sharded by AOR, each shard under its own lock.
class Location {
 public:
  virtual ~Location() = default;
  // Runs edit on the AOR's current (unexpired) bindings under the AOR's shard lock, so a
  // read-check-write (Call-ID/CSeq ordering) is atomic. When edit returns true the result is
  // stored (an empty list removes the AOR) and written through to the backend.
  virtual void update(std::string_view aor,
                      const std::function<bool(std::vector<Binding>& bindings)>& edit) = 0;
  // The AOR's unexpired bindings (a copy).
  virtual std::vector<Binding> get(std::string_view aor) const = 0;
  // The binding with that ruid and its AOR.
  virtual std::optional<std::pair<std::string, Binding>> find_by_ruid(
      std::string_view ruid) const = 0;
  // Bindings whose REGISTER came from proto/ip:port, or over connection_id (when non-zero).
  // A scan of the table: for keepalives and connection close, not per message.
  virtual std::vector<std::pair<std::string, Binding>> find_by_source(
      std::string_view proto, std::string_view ip, std::uint16_t port,
      std::uint64_t connection_id) const = 0;
  virtual std::vector<std::string> aors() const = 0;
  virtual std::size_t binding_count() const = 0;
  // The table's clock (unix seconds): tests replace it.
  virtual std::int64_t now() const = 0;
  // A new unique binding id.
  virtual std::string make_ruid(std::string_view aor) = 0;
  // Limits set by usrloc's parameters, applied by registrar's save().
  virtual std::size_t max_contacts() const = 0;  // 0: unlimited
  virtual bool drop_oldest_on_max() const = 0;   // else save() answers 503
};

}  // namespace strowger::sipproxy::usrloc
