// ContactField: one Contact header value split into display name, URI and header parameters,
// so nathelper can rewrite the URI of the first contact and keep everything else as it was.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sipproxy/sip.h"

namespace strowger::modules::nathelper {

struct ContactField {
  bool star = false;    // "Contact: *"
  std::string display;  // as written before '<' (quoted or tokens), may be empty
  std::string uri;      // the URI text, without '<' '>'
  std::string params;   // header parameters after the URI, with their leading ';'

  // nullopt when the value is not a contact (unbalanced quotes or '<', no URI).
  static std::optional<ContactField> parse(std::string_view value);
  // Always name-addr form ("<uri>") so URI parameters stay URI parameters.
  std::string to_string() const;
};

// The first Contact of the message and its parsed URI. nullopt when there is no Contact, it is
// '*', or it does not parse (Kamailio's get_contact_uri() failing).
struct FirstContact {
  ContactField field;
  sipproxy::Uri uri;
};
std::optional<FirstContact> first_contact(const sipproxy::Message& msg);

// Replaces the first Contact's URI by new_uri (other contacts and header parameters kept, in
// order). False when there is no first contact to replace or the message refuses the edit.
bool replace_first_contact_uri(sipproxy::Message& msg, const std::string& new_uri);

// Rewrites every Contact with edit (which may change the field); false when one does not parse
// or the message refuses the edit. Used by add_rcv_param, which touches all contacts.
bool rewrite_contacts(sipproxy::Message& msg, const std::function<void(ContactField&)>& edit);

}  // namespace strowger::modules::nathelper
