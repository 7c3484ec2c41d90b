// Character classes shared by the lexer files (internal header).
#pragma once
#include <cctype>

namespace strowger::proxy::script {

inline bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\b';
}
inline bool is_id_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
inline bool is_id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
inline bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

}  // namespace strowger::proxy::script
