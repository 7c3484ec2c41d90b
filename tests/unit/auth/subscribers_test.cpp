// The subscriber file: good files, and every error naming file:line.
#include "modules/auth/subscribers.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "modules/auth/credential_store.h"
#include "modules/auth/digest.h"
#include "modules/auth/subscriber_db.h"

namespace strowger::modules::auth {
namespace {

std::string error_of(const std::string& text) {
  auto r = parse_subscriber_yaml(text, "subs.yaml");
  return r.ok() ? "ok" : r.error().message;
}

TEST(SubscriberFile, ListOrMapAndLookups) {
  auto r = parse_subscriber_yaml(
      "# demo\n"
      "subscribers:\n"
      "  - username: alice\n"
      "    domain: example.com\n"
      "    password: secret\n"
      "  - {username: alice, domain: other.org, ha1: 0123456789ABCDEF0123456789abcdef}\n",
      "subs.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const SubscriberSet& s = *r.value();
  EXPECT_EQ(s.size(), 2u);
  ASSERT_NE(s.find("alice", "other.org", true), nullptr);
  EXPECT_EQ(s.find("alice", "other.org", true)->ha1, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(s.find("alice", "nowhere", true), nullptr);
  EXPECT_EQ(s.find("alice", "nowhere", false)->domain, "example.com");  // first of the name
  EXPECT_EQ(s.find("bob", "example.com", false), nullptr);
  const Subscriber* a = s.find("alice", "example.com", true);
  EXPECT_EQ(ha1_for(*a, Algorithm::kMd5, "alice", "example.com"),
            compute_ha1(Algorithm::kMd5, "alice", "example.com", "secret"));
  EXPECT_EQ(ha1_for(*a, Algorithm::kSha256, "alice@example.com", "example.com"),
            compute_ha1(Algorithm::kSha256, "alice@example.com", "example.com", "secret"));
  const Subscriber* b = s.find("alice", "other.org", true);
  EXPECT_EQ(ha1_for(*b, Algorithm::kSha256, "alice", "other.org"), "");  // no SHA-256 HA1
  EXPECT_TRUE(parse_subscriber_yaml("", "e.yaml").ok());
  EXPECT_TRUE(parse_subscriber_yaml("subscribers: []\n", "e.yaml").ok());
}

TEST(SubscriberFile, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of("- {username: a, domain: d, password: p}\n- {username: b, domain: d}\n"),
            "subs.yaml:2: subscriber b@d needs password, ha1 or ha1_sha256");
  EXPECT_EQ(error_of("- username: a\n  domain: d\n  pasword: p\n"),
            "subs.yaml:3: unknown key 'pasword' (expected: username, domain, password, ha1, "
            "ha1b, ha1_sha256)");
  EXPECT_EQ(error_of("\n- {domain: d, password: p}\n"), "subs.yaml:2: subscriber without username");
  EXPECT_EQ(error_of("- {username: a, password: p}\n"), "subs.yaml:1: subscriber a without domain");
  EXPECT_EQ(error_of("- {username: a, domain: d, ha1: xyz}\n"),
            "subs.yaml:1: ha1 must be 32 hex digits (MD5)");
  EXPECT_EQ(error_of("- {username: a, domain: d, ha1_sha256: 0123456789abcdef0123456789abcdef}\n"),
            "subs.yaml:1: ha1_sha256 must be 64 hex digits (SHA-256)");
  EXPECT_EQ(
      error_of("- {username: a, domain: d, password: p, ha1: 0123456789abcdef0123456789abcdef}\n"),
      "subs.yaml:1: subscriber a@d: give either password or ha1/ha1_sha256, not both");
  EXPECT_EQ(error_of("- {username: a, domain: d, password: p}\n"
                     "- {username: a, domain: d, password: q}\n"),
            "subs.yaml:2: duplicate subscriber a@d");
  EXPECT_EQ(error_of("users:\n  - {username: a}\n"),
            "subs.yaml:1: unknown key 'users' (expected: subscribers)");
  EXPECT_EQ(error_of("just a string\n"),
            "subs.yaml:1: expected a list of subscribers {username, domain, password}");
  EXPECT_EQ(error_of("- [a, b]\n"),
            "subs.yaml:1: a subscriber is a map {username, domain, password | ha1}");
  EXPECT_EQ(error_of("- {username: [a], domain: d, password: p}\n"),
            "subs.yaml:1: 'username' must be a string");
  EXPECT_EQ(error_of("- {username: a, domain: d\n").rfind("subs.yaml:2: ", 0), 0u);  // YAML syntax
}

TEST(CredentialStore, ReloadKeepsOldDataOnError) {
  std::string path = ::testing::TempDir() + "auth_store_test.yaml";
  { std::ofstream(path) << "- {username: a, domain: d, password: p}\n"; }
  StoreOptions o;
  o.file_path = path;
  CredentialStore store(o);
  EXPECT_EQ(store.load(), std::nullopt);
  EXPECT_EQ(store.size(), 1u);
  { std::ofstream(path) << "- {username: a, domain: d, password: p}\n- {username: b}\n"; }
  auto err = store.load();
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, path + ":2: subscriber b without domain");
  EXPECT_EQ(store.size(), 1u);
  EXPECT_NE(store.get("subscriber")->find("a", "d", true), nullptr);
  {
    std::ofstream(path) << "- {username: a, domain: d, password: p}\n"
                           "- {username: b, domain: d, password: q}\n";
  }
  EXPECT_EQ(store.load(), std::nullopt);
  EXPECT_EQ(store.size(), 2u);
  std::remove(path.c_str());
  EXPECT_EQ(*store.load(), path + ": cannot read the subscriber file");
  EXPECT_EQ(store.size(), 2u);
}

TEST(SubscriberDb, TableNamesAndUnreachableServer) {
  EXPECT_TRUE(valid_table_name("subscriber"));
  EXPECT_TRUE(valid_table_name("kamailio.subscriber"));
  EXPECT_FALSE(valid_table_name("sub; DROP TABLE x"));
  EXPECT_FALSE(valid_table_name(""));
  EXPECT_FALSE(valid_table_name(".x"));
  // A socket directory with no server: a clear error, no hang.
  auto r =
      load_subscriber_table("postgresql://nobody@/db?host=/nonexistent-auth-test", "subscriber", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("postgresql: ", 0), 0u) << r.error().message;
}

}  // namespace
}  // namespace strowger::modules::auth
