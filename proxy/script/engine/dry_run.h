// Dry run (`sipproxy --dry-run msg.sip --script x.cfg`) and check (`sipproxy --check x.cfg`).
#pragma once
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace strowger::proxy::script::engine {

struct DryRunOptions {
  std::string script_path;
  std::vector<std::pair<std::string, std::string>> defines;  // -D NAME[=value]
  std::string message_path;
  std::string from = "192.0.2.10:5060/udp";  // the peer the message came from: ip:port/proto
  std::string local = "127.0.0.1:5060";      // our socket ($Ri:$Rp); also "myself"
};

struct CheckOptions {
  std::string script_path;
  std::vector<std::pair<std::string, std::string>> defines;
};

// Exit codes: 0 ran (or script ok), 1 script errors, 2 bad message / options.
int run_dry_run(const DryRunOptions& options, std::ostream& out);
int run_dry_run(const DryRunOptions& options);  // to stdout
int run_check(const CheckOptions& options, std::ostream& out);
int run_check(const CheckOptions& options);

// The message file as the dry run reads it: LF line ends become CRLF (when the file has no
// CR), a missing blank line after the headers is added, Content-Length is set to the body.
std::string normalize_message_text(std::string text);

}  // namespace strowger::proxy::script::engine
