// Subscribers: an immutable set of credentials (from the subscriber file or a PostgreSQL
// subscriber table), swapped whole on reload; and the subscriber file parser.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "modules/auth/crypto.h"

namespace strowger::modules::auth {

struct Subscriber {
  std::string username;
  std::string domain;
  std::string password;    // plain text: HA1 is computed for the realm asked
  std::string ha1;         // MD5(username:domain:password), hex
  std::string ha1b;        // MD5(username@domain:domain:password) (Kamailio's ha1b)
  std::string ha1_sha256;  // SHA-256(username:domain:password), hex
};

class SubscriberSet {
 public:
  // false when (username, domain) is already there.
  bool add(Subscriber s);
  // With use_domain the pair must match; without, the first subscriber of that name.
  const Subscriber* find(std::string_view username, std::string_view domain, bool use_domain) const;
  std::size_t size() const { return list_.size(); }

 private:
  std::vector<Subscriber> list_;
  std::unordered_map<std::string, std::size_t> by_user_domain_;  // "user\0domain"
  std::unordered_map<std::string, std::size_t> by_user_;         // first of that name
};

// The HA1 the credentials need: for username (which may be "user@domain" when the UA put the
// domain in it), realm and algorithm. Empty when the subscriber has nothing usable.
std::string ha1_for(const Subscriber& s, Algorithm algorithm, std::string_view username,
                    std::string_view realm);

// The subscriber file: a YAML list (or a map with a `subscribers:` list) of
// {username, domain, password | ha1 | ha1_sha256}. Errors are "name:line: message".
common::Result<std::shared_ptr<const SubscriberSet>> parse_subscriber_yaml(std::string_view text,
                                                                           std::string_view name);
common::Result<std::shared_ptr<const SubscriberSet>> load_subscriber_file(const std::string& path);

}  // namespace strowger::modules::auth
