// Edits that work on the serialized message (insert_hf, subst, force_rport) and reparse it.
#pragma once
#include <string>

#include "proxy/sip/message.h"

namespace strowger::proxy::script::engine {

// Sets Content-Length to the length of the body after the blank line (adds it when missing).
std::string fix_content_length(std::string text);

// Reparses `text` (Content-Length fixed) into msg; false (msg unchanged) when it does not parse.
bool replace_message(sip::Message& msg, std::string text);

}  // namespace strowger::proxy::script::engine
