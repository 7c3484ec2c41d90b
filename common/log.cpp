// Logging implementation: one line per record, written with a single write(2) so threads don't interleave.
#include "common/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <string>

namespace strowger::common {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
LogFormat g_format = LogFormat::kText;
std::string g_program = "strowger";
const char* kNames[] = {"debug", "info", "notice", "warn", "error"};

void json_escape_into(std::string& out, const char* s) {
  for (; *s; ++s) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
}
}  // namespace

void log_setup(LogLevel level, LogFormat format, std::string_view program) {
  g_level = static_cast<int>(level);
  g_format = format;
  g_program = std::string(program);
}

bool log_enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

bool parse_log_level(std::string_view s, LogLevel* out) {
  for (int i = 0; i < 5; ++i) {
    if (s == kNames[i]) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  if (s == "warning") {
    *out = LogLevel::kWarn;
    return true;
  }
  return false;
}

void log_write(LogLevel level, const char* fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm tmv;
  gmtime_r(&tv.tv_sec, &tmv);
  char ts[64];
  snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tmv.tm_year + 1900, tmv.tm_mon + 1,
           tmv.tm_mday, tmv.tm_hour, tmv.tm_min, tmv.tm_sec, static_cast<int>(tv.tv_usec / 1000));
  std::string line;
  line.reserve(256);
  const char* name = kNames[static_cast<int>(level)];
  if (g_format == LogFormat::kJson) {
    line += "{\"ts\":\"";
    line += ts;
    line += "\",\"level\":\"";
    line += name;
    line += "\",\"prog\":\"";
    line += g_program;
    line += "\",\"msg\":\"";
    json_escape_into(line, msg);
    line += "\"}\n";
  } else {
    line += ts;
    line += ' ';
    line += g_program;
    line += " [";
    line += name;
    line += "] ";
    line += msg;
    line += '\n';
  }
  ssize_t r = ::write(2, line.data(), line.size());
  (void)r;
}

}  // namespace strowger::common
