// SubscriberSet lookups, HA1 selection and the subscriber file parser (yaml-cpp).
#include "modules/auth/subscribers.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "modules/auth/digest.h"

namespace strowger::modules::auth {
namespace {

std::string key_of(std::string_view user, std::string_view domain) {
  std::string k(user);
  k.push_back('\0');
  k.append(domain);
  return k;
}

bool is_hex(std::string_view s, std::size_t len) {
  if (s.size() != len) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

common::Error error_at(std::string_view name, const YAML::Node& node, const std::string& msg) {
  int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 1;
  return common::Error{0, std::string(name) + ":" + std::to_string(line) + ": " + msg};
}

}  // namespace

bool SubscriberSet::add(Subscriber s) {
  std::string k = key_of(s.username, s.domain);
  if (by_user_domain_.count(k)) return false;
  by_user_domain_.emplace(std::move(k), list_.size());
  by_user_.emplace(s.username, list_.size());  // keeps the first of a name
  list_.push_back(std::move(s));
  return true;
}

const Subscriber* SubscriberSet::find(std::string_view username, std::string_view domain,
                                      bool use_domain) const {
  if (use_domain) {
    auto it = by_user_domain_.find(key_of(username, domain));
    return it == by_user_domain_.end() ? nullptr : &list_[it->second];
  }
  auto it = by_user_.find(std::string(username));
  return it == by_user_.end() ? nullptr : &list_[it->second];
}

std::string ha1_for(const Subscriber& s, Algorithm algorithm, std::string_view username,
                    std::string_view realm) {
  if (!s.password.empty()) return compute_ha1(algorithm, username, realm, s.password);
  bool with_domain = username.find('@') != std::string_view::npos;
  if (algorithm == Algorithm::kSha256) return with_domain ? std::string() : s.ha1_sha256;
  return with_domain ? s.ha1b : s.ha1;
}

common::Result<std::shared_ptr<const SubscriberSet>> parse_subscriber_yaml(std::string_view text,
                                                                           std::string_view name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    return common::Error{0, std::string(name) + ":" + std::to_string(line) + ": " + e.msg};
  }
  auto set = std::make_shared<SubscriberSet>();
  if (!root || root.IsNull()) return std::shared_ptr<const SubscriberSet>(set);  // empty file
  YAML::Node list = root;
  if (root.IsMap()) {
    for (const auto& kv : root)
      if (kv.first.Scalar() != "subscribers")
        return error_at(name, kv.first,
                        "unknown key '" + kv.first.Scalar() + "' (expected: subscribers)");
    list = root["subscribers"];
    if (!list || list.IsNull()) return std::shared_ptr<const SubscriberSet>(set);
  }
  if (!list.IsSequence())
    return error_at(name, list, "expected a list of subscribers {username, domain, password}");
  for (const YAML::Node& item : list) {
    if (!item.IsMap())
      return error_at(name, item, "a subscriber is a map {username, domain, password | ha1}");
    Subscriber s;
    for (const auto& kv : item) {
      const std::string& key = kv.first.Scalar();
      if (!kv.second.IsScalar()) return error_at(name, kv.second, "'" + key + "' must be a string");
      const std::string& value = kv.second.Scalar();
      if (key == "username")
        s.username = value;
      else if (key == "domain")
        s.domain = value;
      else if (key == "password")
        s.password = value;
      else if (key == "ha1")
        s.ha1 = lower(value);
      else if (key == "ha1b")
        s.ha1b = lower(value);
      else if (key == "ha1_sha256")
        s.ha1_sha256 = lower(value);
      else
        return error_at(name, kv.first,
                        "unknown key '" + key +
                            "' (expected: username, domain, password, ha1, ha1b, ha1_sha256)");
    }
    if (s.username.empty()) return error_at(name, item, "subscriber without username");
    if (s.domain.empty())
      return error_at(name, item, "subscriber " + s.username + " without domain");
    if (s.password.empty() && s.ha1.empty() && s.ha1_sha256.empty())
      return error_at(
          name, item,
          "subscriber " + s.username + "@" + s.domain + " needs password, ha1 or ha1_sha256");
    if (!s.password.empty() && (!s.ha1.empty() || !s.ha1_sha256.empty()))
      return error_at(name, item,
                      "subscriber " + s.username + "@" + s.domain +
                          ": give either password or ha1/ha1_sha256, not both");
    if (!s.ha1.empty() && !is_hex(s.ha1, 32))
      return error_at(name, item["ha1"], "ha1 must be 32 hex digits (MD5)");
    if (!s.ha1b.empty() && !is_hex(s.ha1b, 32))
      return error_at(name, item["ha1b"], "ha1b must be 32 hex digits (MD5)");
    if (!s.ha1_sha256.empty() && !is_hex(s.ha1_sha256, 64))
      return error_at(name, item["ha1_sha256"], "ha1_sha256 must be 64 hex digits (SHA-256)");
    std::string who = s.username + "@" + s.domain;
    if (!set->add(std::move(s))) return error_at(name, item, "duplicate subscriber " + who);
  }
  return std::shared_ptr<const SubscriberSet>(set);
}

common::Result<std::shared_ptr<const SubscriberSet>> load_subscriber_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return common::Error{0, path + ": cannot read the subscriber file"};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_subscriber_yaml(ss.str(), path);
}

}  // namespace strowger::modules::auth
