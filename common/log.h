// Logging to stderr, text or JSON, with a global level set once at startup.
#pragma once
#include <cstdarg>
#include <string_view>

namespace strowger::common {

enum class LogLevel { kDebug = 0, kInfo, kNotice, kWarn, kError };
enum class LogFormat { kText, kJson };

void log_setup(LogLevel level, LogFormat format, std::string_view program);
bool log_enabled(LogLevel level);
void log_write(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
bool parse_log_level(std::string_view s, LogLevel* out);

}  // namespace strowger::common

#define SLOG(level, ...)                                                   \
  do {                                                                     \
    if (::strowger::common::log_enabled(level))                            \
      ::strowger::common::log_write(level, __VA_ARGS__);                   \
  } while (0)
#define LOG_DEBUG(...) SLOG(::strowger::common::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) SLOG(::strowger::common::LogLevel::kInfo, __VA_ARGS__)
#define LOG_NOTICE(...) SLOG(::strowger::common::LogLevel::kNotice, __VA_ARGS__)
#define LOG_WARN(...) SLOG(::strowger::common::LogLevel::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) SLOG(::strowger::common::LogLevel::kError, __VA_ARGS__)
