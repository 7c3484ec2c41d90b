// Script functions and pseudo-variables a module adds to the routing language, and ScriptCall:
// the message and the script state a module function works on.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipproxy/sip.h"

namespace strowger::sipproxy {

// Where a function may be called (Kamailio's REQUEST_ROUTE, FAILURE_ROUTE, ...).
enum RouteMask : unsigned {
  kRequestRoute = 1,
  kFailureRoute = 2,
  kOnReplyRoute = 4,
  kBranchRoute = 8,
  kReplyRoute = 16,
  kEventRoute = 32,
  kAnyRoute = 63,
};

enum class ArgKind {
  kString,  // a format: "$fU@$fd" is expanded on every call
  kInt,     // a number, or a pseudo-variable read as a number on every call
};

struct ArgSpec {
  std::string name;  // for messages: "table", "flags"
  ArgKind kind = ArgKind::kString;
  bool constant = false;  // must be a literal (checked at compile time, e.g. a table name)
};

// An argument as written, for the compile-time fixup.
struct ConstArg {
  bool is_constant = false;  // a literal without pseudo-variables
  std::string text;          // the literal (or the format as written)
  std::int64_t i = 0;        // the literal as a number when kind is kInt and it is one
};

// An argument's value for one call.
struct ArgValue {
  std::string s;
  std::int64_t i = 0;
};

struct Peer {
  std::string proto;  // "udp", "tcp", "tls", "ws", "wss"
  std::string ip;     // IPv6 without brackets
  std::uint16_t port = 0;
};

// One more target for t_relay (lookup() makes one per contact).
struct Branch {
  std::string uri;                // the Request-URI of the branch
  std::string dst_uri;            // next hop instead of the URI (e.g. the contact's source)
  std::vector<std::string> path;  // Path of the registration: Route headers of the branch
  int q = -1;                     // 0..1000, -1 unset
  std::uint64_t bflags = 0;
  // The connection the contact registered over (ScriptCall::connection_id() of its REGISTER):
  // the branch goes out on it while it lives. 0: any connection.
  std::uint64_t connection_id = 0;
  // An RFC 5626 flow: when the connection is gone the branch fails with 430 and no new
  // connection is opened (else 480 for a connection-bound contact that cannot be reached).
  bool flow = false;
};

enum class LogLevel { kError, kWarn, kNotice, kInfo, kDebug };

// The message under the script and what the script has set so far (one per call).
class ScriptCall {
 public:
  virtual ~ScriptCall() = default;
  virtual Message& message() = 0;
  virtual RouteMask route() const = 0;
  virtual int worker() const = 0;
  virtual Peer source() const = 0;  // $si $sp $proto
  virtual Peer local() const = 0;   // the socket it arrived on
  // The connection it arrived on (0 for UDP): a contact reached over it later.
  virtual std::uint64_t connection_id() const = 0;
  virtual bool is_myself(std::string_view host, std::uint16_t port) const = 0;

  // A reply: on the transaction when there is one, else stateless (Kamailio's send_reply).
  virtual int reply(int code, std::string_view reason, std::string_view extra_headers) = 0;

  // $du and the destination set of t_relay.
  virtual const std::string& dst_uri() const = 0;
  virtual void set_dst_uri(std::string uri) = 0;
  virtual void set_path(std::vector<std::string> path) = 0;  // branch 0 (the Request-URI)
  // Branch 0 goes out on this connection (see Branch::connection_id, Branch::flow).
  virtual void set_connection(std::uint64_t connection_id, bool flow) = 0;
  virtual void clear_branches() = 0;
  virtual const std::vector<Branch>& branches() const = 0;  // those appended so far
  virtual bool append_branch(Branch branch) = 0;  // false when the limit is reached

  virtual bool flag(int bit) const = 0;  // message flags (setflag)
  virtual void set_flag(int bit, bool on) = 0;
  virtual std::optional<std::string> avp(std::string_view name) const = 0;  // newest value
  virtual void set_avp(std::string_view name, std::string value) = 0;

  virtual void log(LogLevel level, std::string_view text) = 0;
};

struct FunctionSpec {
  std::string name;
  std::vector<ArgSpec> args;
  std::size_t min_args = 0;  // trailing arguments may be left out
  unsigned routes = kAnyRoute;
  // Compile time: checks the arguments as written and may keep pre-parsed state for run.
  // An error text becomes "file:line:col: name(): <text>".
  std::function<std::optional<std::string>(const std::vector<ConstArg>& args,
                                           std::shared_ptr<const void>* state)>
      fixup;
  // Every call: Kamailio's convention, > 0 true, < 0 false, 0 stops the script.
  std::function<int(ScriptCall& call, const std::vector<ArgValue>& args, const void* state)> run;
};

// $name (read-only); nullopt is $null.
struct PvSpec {
  std::string name;
  std::function<std::optional<std::string>(ScriptCall& call)> get;
};

}  // namespace strowger::sipproxy
