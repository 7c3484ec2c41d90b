// make_raw_response: header lines are found by name only; nothing else of the request is trusted.
#include "proxy/sip/raw_response.h"

#include <cctype>

namespace strowger::proxy::sip {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Index of the canonical name a header line carries, or -1.
int header_kind(std::string_view name) {
  static constexpr std::string_view kLong[] = {"Via", "From", "To", "Call-ID", "CSeq"};
  static constexpr std::string_view kCompact[] = {"v", "f", "t", "i", ""};
  for (int i = 0; i < 5; ++i) {
    if (iequals(name, kLong[i]) || (!kCompact[i].empty() && iequals(name, kCompact[i]))) return i;
  }
  return -1;
}

bool clean(std::string_view value) {
  for (unsigned char c : value) {
    if (c == 0 || c == '\r' || c == '\n') return false;
  }
  return true;
}

}  // namespace

std::string make_raw_response(std::string_view request, int status, std::string_view reason) {
  // The start line must look like a request: "METHOD SP ... SIP/2.0"-ish, not a status line.
  std::size_t eol = request.find('\n');
  if (eol == std::string_view::npos) return {};
  std::string_view start = request.substr(0, eol);
  if (start.substr(0, 4) == "SIP/" || start.find(' ') == std::string_view::npos) return {};
  std::string lines[5];
  bool seen[5] = {false, false, false, false, false};
  std::size_t pos = eol + 1;
  while (pos < request.size()) {
    std::size_t end = request.find('\n', pos);
    if (end == std::string_view::npos) end = request.size();
    std::string_view line = request.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.empty()) break;  // end of the headers
    if (line[0] == ' ' || line[0] == '\t') continue;  // folded continuation: ignored
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    int kind = header_kind(name);
    if (kind < 0) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    if (!clean(value)) return {};
    if (kind == 0) {  // every Via, in order
      lines[0].append("Via: ").append(value).append("\r\n");
      seen[0] = true;
    } else if (!seen[kind]) {
      static constexpr std::string_view kNames[] = {"Via", "From", "To", "Call-ID", "CSeq"};
      lines[kind].append(kNames[kind]).append(": ").append(value).append("\r\n");
      seen[kind] = true;
    }
  }
  for (bool s : seen) {
    if (!s) return {};
  }
  std::string out = "SIP/2.0 " + std::to_string(status) + " ";
  out.append(reason).append("\r\n");
  for (const std::string& l : lines) out += l;
  out += "Content-Length: 0\r\n\r\n";
  return out;
}

}  // namespace strowger::proxy::sip
