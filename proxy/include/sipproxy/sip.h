// The SIP types of the module API: a module reads and edits messages with the core's own
// wrapper over sofia-sip (parse once, edit in place, serialize once) and its URI type.
#pragma once
#include "proxy/sip/message.h"
#include "proxy/sip/uri.h"

namespace strowger::sipproxy {

using Message = proxy::sip::Message;
using Uri = proxy::sip::Uri;
using Via = proxy::sip::Via;

}  // namespace strowger::sipproxy
