// usrloc: packing round trip, expiry with a fake clock, RPC commands, Redis URL and JSON.
#include "modules/usrloc/redis_store.h"
#include "modules/usrloc/rpc.h"
#include "tests/unit/registrar/fake_call.h"

namespace strowger::modules::usrloc {
namespace {

Binding sample(std::int64_t expires) {
  Binding b;
  b.contact = "sip:alice@192.0.2.10:5060;transport=tcp";
  b.expires = expires;
  b.q = 500;
  b.call_id = "abc@host";
  b.cseq = 7;
  b.path = {"<sip:p1;lr>", "<sip:p2;lr>"};
  b.received = "sip:203.0.113.1:4000;transport=tcp";
  b.proto = "tcp";
  b.source_ip = "203.0.113.1";
  b.source_port = 4000;
  b.socket = "tcp:192.0.2.1:5060";
  b.connection_id = 99;
  b.user_agent = "ua";
  b.instance = "<urn:uuid:x>";
  b.reg_id = 2;
  b.ruid = "r1";
  b.flags = 1;
  b.methods = 0x4a;  // a methods mask: packed next to the flags
  b.last_modified = 5;
  return b;
}

void expect_same(const Binding& a, const Binding& b) {
  EXPECT_EQ(a.contact, b.contact);
  EXPECT_EQ(a.expires, b.expires);
  EXPECT_EQ(a.q, b.q);
  EXPECT_EQ(a.call_id, b.call_id);
  EXPECT_EQ(a.cseq, b.cseq);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.received, b.received);
  EXPECT_EQ(a.proto, b.proto);
  EXPECT_EQ(a.source_ip, b.source_ip);
  EXPECT_EQ(a.source_port, b.source_port);
  EXPECT_EQ(a.socket, b.socket);
  EXPECT_EQ(a.user_agent, b.user_agent);
  EXPECT_EQ(a.instance, b.instance);
  EXPECT_EQ(a.reg_id, b.reg_id);
  EXPECT_EQ(a.ruid, b.ruid);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.methods, b.methods);
  EXPECT_EQ(a.last_modified, b.last_modified);
}

TEST(Usrloc, PackedBindingRoundTrip) {
  Binding b = sample(100);
  Binding back = PackedBinding::pack(b).unpack();
  expect_same(b, back);
  EXPECT_EQ(back.connection_id, 99u);
  Binding empty;
  Binding e = PackedBinding::pack(empty).unpack();
  EXPECT_TRUE(e.path.empty());
  EXPECT_EQ(e.q, -1);
}

TEST(Usrloc, ExpiryWithAFakeClock) {
  registrar::Clocked c;
  c.table.update("alice", [&](std::vector<Binding>& v) {
    v.push_back(sample(c.now + 10));
    Binding two = sample(c.now + 100);
    two.contact = "sip:two@h";
    v.push_back(two);
    return true;
  });
  EXPECT_EQ(c.table.binding_count(), 2u);
  c.now += 10;
  EXPECT_EQ(c.table.get("alice").size(), 1u);  // expired ones are never returned
  EXPECT_EQ(c.table.expire(), 1u);
  EXPECT_EQ(c.table.binding_count(), 1u);
  c.now += 90;
  EXPECT_EQ(c.table.expire(), 1u);
  EXPECT_TRUE(c.table.aors().empty());
}

class Recorder final : public Store {
 public:
  void write(const std::string& aor, const std::vector<Binding>& b) override {
    writes.emplace_back(aor, b.size());
  }
  std::vector<std::pair<std::string, std::size_t>> writes;
};

TEST(Usrloc, WriteThroughOnEveryChangeOnly) {
  registrar::Clocked c;
  Recorder r;
  c.table.set_store(&r);
  c.table.update("a", [&](std::vector<Binding>& v) {
    v.push_back(sample(c.now + 60));
    return true;
  });
  c.table.update("a", [](std::vector<Binding>&) { return false; });  // no change: no write
  c.table.update("a", [](std::vector<Binding>& v) {
    v.clear();
    return true;
  });
  EXPECT_EQ(r.writes, (std::vector<std::pair<std::string, std::size_t>>{{"a", 1}, {"a", 0}}));
  c.table.put_from_backend("b", {sample(c.now + 60)});  // from Redis: not written back
  EXPECT_EQ(r.writes.size(), 2u);
  EXPECT_EQ(c.table.get("b").size(), 1u);
}

TEST(Usrloc, RpcShowAddRmDump) {
  auto c = std::make_shared<registrar::Clocked>();
  std::shared_ptr<LocationTable> table(c, &c->table);
  auto rpcs = make_rpcs([table] { return table; });
  auto call = [&](const std::string& name, const common::Json& p) {
    for (auto& r : rpcs)
      if (r.name == name) return r.handler(p);
    throw std::runtime_error("no rpc " + name);
  };
  auto added =
      call("ul.add", {{"aor", 1001}, {"contact", "sip:1001@h"}, {"expires", 60}, {"q", 0.5}});
  EXPECT_EQ(added["aor"], "1001");
  EXPECT_EQ(added["contacts"][0]["expires"], 60);
  EXPECT_EQ(added["contacts"][0]["q"], 0.5);
  call("ul.add", common::Json::array({"1001", "sip:1001@h2"}));
  EXPECT_EQ(call("ul.show", {{"aor", "1001"}})["contacts"].size(), 2u);
  EXPECT_EQ(call("ul.show", common::Json::object())["count"], 1);
  EXPECT_EQ(call("ul.dump", common::Json::object())["binding_count"], 2);
  EXPECT_EQ(call("ul.rm", {{"aor", "1001"}, {"contact", "sip:1001@h"}})["removed"], 1);
  EXPECT_THROW(call("ul.rm", {{"aor", "1001"}, {"contact", "sip:nope@h"}}), common::ControlError);
  EXPECT_EQ(call("ul.rm", {{"aor", "1001"}})["removed"], 1);
  EXPECT_THROW(call("ul.show", {{"aor", "1001"}}), common::ControlError);
  EXPECT_THROW(call("ul.add", {{"aor", "x"}}), common::ControlError);
  EXPECT_THROW(call("ul.add", {{"aor", "x"}, {"contact", "sip:x@h"}, {"expires", -1}}),
               common::ControlError);
  EXPECT_THROW(call("ul.rm", common::Json::object()), common::ControlError);
}

TEST(Usrloc, RedisUrlAndJson) {
  auto t = parse_redis_url("redis://127.0.0.1:6390/2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 6390);
  EXPECT_EQ(t->db, 2);
  EXPECT_EQ(parse_redis_url("redis://h")->port, 6379);
  EXPECT_FALSE(parse_redis_url("http://h"));
  EXPECT_FALSE(parse_redis_url("redis://h:99999"));
  EXPECT_FALSE(parse_redis_url("redis://:1/0"));
  Binding b = sample(1234);
  auto back = bindings_from_json(bindings_to_json({b}));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  expect_same(b, (*back)[0]);
  EXPECT_EQ((*back)[0].connection_id, 0u);  // connections do not survive a restart
  EXPECT_FALSE(bindings_from_json("{"));
  EXPECT_FALSE(bindings_from_json("[{\"e\":1}]"));
  EXPECT_FALSE(bindings_from_json("[{\"c\":5,\"e\":1}]"));
}

}  // namespace
}  // namespace strowger::modules::usrloc
