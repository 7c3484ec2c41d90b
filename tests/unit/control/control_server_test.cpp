// ControlServer over a real Unix socket: calls, JSON-RPC errors, framing, limits, socket files.
#include "common/control_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "tests/unit/control/test_support.h"

namespace strowger::common {
namespace {

using test::RawClient;
using test::TempDir;

void add_test_methods(ControlServer& server, std::atomic<int>* counter) {
  server.add_method("echo", [](const Json& params) { return params; });
  server.add_method("add", [](const Json& params) {
    if (!params.is_object()) throw ControlError(kRpcInvalidParams, "params must be an object");
    return Json(params.at("a").get<int>() + params.at("b").get<int>());
  });
  server.add_method("busy", [](const Json&) -> Json { throw ControlError(-32001, "no such AOR"); });
  server.add_method("boom", [](const Json&) -> Json { throw std::runtime_error("kaboom"); });
  server.add_method("binary", [](const Json&) { return Json(std::string("ok \xff\xfe end")); });
  server.add_method("count", [counter](const Json&) { return Json(++*counter); });
  server.add_method("big", [](const Json& params) {
    return Json(std::string(params.at(0).get<std::size_t>(), 'x'));
  });
}

class ControlServerTest : public ::testing::Test {
 protected:
  void start(ControlServerOptions options = {}) {
    if (options.socket_path.empty()) options.socket_path = dir_.file("run/ctl.sock");
    server_ = std::make_unique<ControlServer>(options);
    add_test_methods(*server_, &counter_);
    auto err = server_->start();
    ASSERT_FALSE(err.has_value()) << *err;
  }

  void connect(RawClient& c) { ASSERT_TRUE(c.connect(server_->socket_path())); }

  Json call(RawClient& c, const std::string& request) {
    EXPECT_TRUE(c.send(request + "\n"));
    auto line = c.read_line();
    EXPECT_TRUE(line.has_value());
    return line ? Json::parse(*line) : Json();
  }

  Json call(const std::string& request) {
    RawClient c;
    connect(c);
    return call(c, request);
  }

  TempDir dir_;
  std::atomic<int> counter_{0};
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, AnswersAGoodCall) {
  start();
  Json r = call(R"({"jsonrpc":"2.0","id":7,"method":"add","params":{"a":2,"b":3}})");
  EXPECT_EQ(r, Json::parse(R"({"jsonrpc":"2.0","id":7,"result":5})"));
  r = call(R"({"jsonrpc":"2.0","id":"abc","method":"echo","params":["x",1]})");
  EXPECT_EQ(r["id"], "abc");
  EXPECT_EQ(r["result"], Json::parse(R"(["x",1])"));
  r = call(R"({"jsonrpc":"2.0","id":null,"method":"echo"})");
  EXPECT_TRUE(r.contains("result"));
  EXPECT_TRUE(r["result"].is_null());
}

TEST_F(ControlServerTest, UnknownMethod) {
  start();
  Json r = call(R"({"jsonrpc":"2.0","id":1,"method":"nope"})");
  EXPECT_EQ(r["error"]["code"], kRpcMethodNotFound);
  EXPECT_EQ(r["error"]["message"], "unknown method 'nope'");
  EXPECT_EQ(r["id"], 1);
  EXPECT_FALSE(r.contains("result"));
}

TEST_F(ControlServerTest, ParseError) {
  start();
  Json r = call(R"({"jsonrpc":"2.0","id":1,"method":)");
  EXPECT_EQ(r["error"]["code"], kRpcParseError);
  EXPECT_TRUE(r["id"].is_null());
  EXPECT_EQ(call("\xff\xfe")["error"]["code"], kRpcParseError);
}

TEST_F(ControlServerTest, InvalidRequests) {
  start();
  for (const char* bad : {
           R"(42)",
           R"("call")",
           R"([])",
           R"({"id":1,"method":"echo"})",
           R"({"jsonrpc":"1.0","id":1,"method":"echo"})",
           R"({"jsonrpc":"2.0","id":1})",
           R"({"jsonrpc":"2.0","id":1,"method":5})",
           R"({"jsonrpc":"2.0","id":1,"method":"echo","params":"x"})",
           R"({"jsonrpc":"2.0","id":{"a":1},"method":"echo"})",
       }) {
    Json r = call(bad);
    EXPECT_EQ(r["error"]["code"], kRpcInvalidRequest) << bad;
  }
}

TEST_F(ControlServerTest, InvalidParamsAndHandlerErrors) {
  start();
  Json r = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":{"a":2}})");
  EXPECT_EQ(r["error"]["code"], kRpcInvalidParams);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("'b'"), std::string::npos);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":{"a":2,"b":"three"}})");
  EXPECT_EQ(r["error"]["code"], kRpcInvalidParams);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]})");
  EXPECT_EQ(r["error"]["code"], kRpcInvalidParams);
  EXPECT_EQ(r["error"]["message"], "params must be an object");
  r = call(R"({"jsonrpc":"2.0","id":2,"method":"busy"})");
  EXPECT_EQ(r["error"]["code"], -32001);
  EXPECT_EQ(r["error"]["message"], "no such AOR");
  r = call(R"({"jsonrpc":"2.0","id":3,"method":"boom"})");
  EXPECT_EQ(r["error"]["code"], kRpcInternalError);
  EXPECT_EQ(r["error"]["message"], "internal error: kaboom");
}

TEST_F(ControlServerTest, TwoRequestsOnOneConnection) {
  start();
  RawClient c;
  connect(c);
  ASSERT_TRUE(c.send(R"({"jsonrpc":"2.0","id":1,"method":"add","params":{"a":1,"b":1}})"
                     "\r\n\n"
                     R"({"jsonrpc":"2.0","id":2,"method":"add","params":{"a":2,"b":2}})"
                     "\n"));
  auto first = c.read_line(), second = c.read_line();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(Json::parse(*first)["result"], 2);
  EXPECT_EQ(Json::parse(*second)["result"], 4);
  // A request split across writes is framed by its newline, not by the writes.
  ASSERT_TRUE(c.send(R"({"jsonrpc":"2.0","id":3,"me)"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(call(c, R"(thod":"echo","params":[3]})")["result"], Json::parse("[3]"));
}

TEST_F(ControlServerTest, ManyClientsAtOnce) {
  start();
  constexpr int kClients = 16, kCalls = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      RawClient c;
      if (!c.connect(server_->socket_path())) return;
      for (int i = 0; i < kCalls; ++i) {
        Json req = {
            {"jsonrpc", "2.0"}, {"id", i}, {"method", "add"}, {"params", {{"a", t}, {"b", i}}}};
        if (!c.send(req.dump() + "\n")) return;
        auto line = c.read_line();
        if (!line) return;
        Json r = Json::parse(*line, nullptr, false);
        if (r["id"] == i && r["result"] == t + i) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good, kClients * kCalls);
}

TEST_F(ControlServerTest, TooManyClientsAreClosed) {
  ControlServerOptions options;
  options.max_clients = 2;
  start(options);
  RawClient a, b, c;
  connect(a);
  connect(b);
  // The server has taken both once it answers them.
  EXPECT_EQ(call(a, R"({"jsonrpc":"2.0","id":1,"method":"count"})")["result"], 1);
  EXPECT_EQ(call(b, R"({"jsonrpc":"2.0","id":1,"method":"count"})")["result"], 2);
  connect(c);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(call(a, R"({"jsonrpc":"2.0","id":2,"method":"count"})")["result"], 3);
}

TEST_F(ControlServerTest, HalfClosedRequestWithoutNewline) {
  start();
  RawClient c;
  connect(c);
  ASSERT_TRUE(c.send(R"({"jsonrpc":"2.0","id":5,"method":"echo","params":{"k":"v"}})"));
  c.shutdown_write();
  auto line = c.read_line();
  ASSERT_TRUE(line);
  EXPECT_EQ(Json::parse(*line)["result"]["k"], "v");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(ControlServerTest, NotificationsGetNoAnswer) {
  start();
  RawClient c;
  connect(c);
  ASSERT_TRUE(c.send(R"({"jsonrpc":"2.0","method":"count"})"
                     "\n"
                     R"({"jsonrpc":"2.0","method":"nope"})"
                     "\n"));
  Json r = call(c, R"({"jsonrpc":"2.0","id":9,"method":"count"})");
  EXPECT_EQ(r["id"], 9);
  EXPECT_EQ(r["result"], 2);  // the notification ran first
  EXPECT_EQ(c.unread(), "");
}

TEST_F(ControlServerTest, Batch) {
  start();
  Json r = call(R"([{"jsonrpc":"2.0","id":1,"method":"add","params":{"a":1,"b":2}},)"
                R"({"jsonrpc":"2.0","method":"count"},)"
                R"(7,)"
                R"({"jsonrpc":"2.0","id":2,"method":"nope"}])");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["result"], 3);
  EXPECT_EQ(r[1]["error"]["code"], kRpcInvalidRequest);
  EXPECT_EQ(r[2]["error"]["code"], kRpcMethodNotFound);
  EXPECT_EQ(counter_, 1);
}

TEST_F(ControlServerTest, OversizedRequestIsRefusedAndClosed) {
  ControlServerOptions options;
  options.max_request_bytes = 1024;
  start(options);
  RawClient c;
  connect(c);
  ASSERT_TRUE(c.send(std::string(4000, ' ')));
  auto line = c.read_line();
  ASSERT_TRUE(line);
  EXPECT_EQ(Json::parse(*line)["error"]["code"], kRpcInvalidRequest);
  EXPECT_TRUE(c.wait_closed());
  // Requests up to the limit still work, on a new connection.
  std::string padded = R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[""]})";
  const std::size_t envelope = padded.size();
  padded.insert(padded.size() - 3, std::string(1024 - envelope, 'p'));
  ASSERT_EQ(padded.size(), 1024u);
  EXPECT_EQ(call(padded)["result"][0].get<std::string>().size(), 1024u - envelope);
}

TEST_F(ControlServerTest, IdleClientIsClosed) {
  ControlServerOptions options;
  options.idle_timeout_ms = 150;
  start(options);
  RawClient c;
  connect(c);
  EXPECT_EQ(call(c, R"({"jsonrpc":"2.0","id":1,"method":"count"})")["result"], 1);
  auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_closed(3000));
  EXPECT_GE(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(100));
}

TEST_F(ControlServerTest, SlowReaderGetsEveryAnswer) {
  start();
  RawClient c;
  connect(c);
  // 12 MiB of answers while the client reads nothing: the server must pause, not drop.
  constexpr int kRequests = 12;
  std::string requests;
  for (int i = 0; i < kRequests; ++i) {
    requests += R"({"jsonrpc":"2.0","id":)" + std::to_string(i) +
                R"(,"method":"big","params":[1048576]})" + "\n";
  }
  ASSERT_TRUE(c.send(requests));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < kRequests; ++i) {
    auto line = c.read_line();
    ASSERT_TRUE(line) << i;
    Json r = Json::parse(*line);
    EXPECT_EQ(r["id"], i);
    EXPECT_EQ(r["result"].get<std::string>().size(), 1048576u);
  }
}

TEST_F(ControlServerTest, InvalidUtf8InAResultIsReplaced) {
  start();
  Json r = call(R"({"jsonrpc":"2.0","id":1,"method":"binary"})");
  EXPECT_EQ(r["result"], "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST_F(ControlServerTest, ListsMethods) {
  start();
  Json r = call(R"({"jsonrpc":"2.0","id":1,"method":"rpc.methods"})");
  EXPECT_EQ(r["result"], Json::parse(R"(["add","big","binary","boom","busy","count","echo",)"
                                     R"("rpc.methods"])"));
}

TEST_F(ControlServerTest, CreatesDirectoriesAndSetsModes) {
  ControlServerOptions options;
  options.socket_path = dir_.file("a/b/ctl.sock");
  start(options);
  struct stat st;
  ASSERT_EQ(::stat(dir_.file("a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::stat(dir_.file("a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::lstat(options.socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ControlServerTest, StopClosesClientsAndRemovesTheSocket) {
  start();
  RawClient c;
  connect(c);
  EXPECT_EQ(call(c, R"({"jsonrpc":"2.0","id":1,"method":"count"})")["result"], 1);
  server_->stop();
  EXPECT_FALSE(server_->running());
  EXPECT_TRUE(c.wait_closed());
  EXPECT_FALSE(std::filesystem::exists(server_->socket_path()));
  server_->stop();  // twice is fine
  // And it can start again on the same path.
  ASSERT_FALSE(server_->start().has_value());
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"count"})")["result"], 2);
}

TEST_F(ControlServerTest, ReplacesAStaleSocketFile) {
  const std::string path = dir_.file("ctl.sock");
  {
    // What a killed daemon leaves: a socket file nobody listens on.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr;
    ASSERT_TRUE(test::fill_sockaddr(path, &addr));
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  ControlServerOptions options;
  options.socket_path = path;
  start(options);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"count"})")["result"], 1);
}

TEST_F(ControlServerTest, RefusesASocketALiveServerAnswersOn) {
  start();
  {
    ControlServer second(ControlServerOptions{.socket_path = server_->socket_path()});
    auto err = second.start();
    ASSERT_TRUE(err.has_value());
    EXPECT_NE(err->find("already listening"), std::string::npos) << *err;
  }
  // The refused server must not have removed the live one's socket.
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"count"})")["result"], 1);
}

TEST_F(ControlServerTest, RefusesPathsThatAreNotSockets) {
  const std::string file = dir_.file("config.yaml");
  { std::ofstream(file) << "keep me\n"; }
  ControlServer on_file(ControlServerOptions{.socket_path = file});
  auto err = on_file.start();
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("not a socket"), std::string::npos) << *err;
  EXPECT_EQ(test::slurp(file), "keep me\n");

  ControlServer under_file(ControlServerOptions{.socket_path = file + "/ctl.sock"});
  EXPECT_TRUE(under_file.start().has_value());

  ControlServer too_long(ControlServerOptions{.socket_path = dir_.file(std::string(120, 'x'))});
  EXPECT_TRUE(too_long.start().has_value());
  ControlServer empty(ControlServerOptions{});
  EXPECT_TRUE(empty.start().has_value());
}

TEST(ControlServerSetup, RegistrationRules) {
  TempDir dir;
  ControlServer server(ControlServerOptions{.socket_path = dir.file("ctl.sock")});
  EXPECT_THROW(server.add_method("rpc.mine", [](const Json&) { return Json(); }), std::logic_error);
  EXPECT_THROW(server.add_method("x", ControlServer::Handler()), std::logic_error);
  server.add_method("x", [](const Json&) { return Json(1); });
  server.add_method("x", [](const Json&) { return Json(2); });  // replaces
  ASSERT_FALSE(server.start().has_value());
  EXPECT_TRUE(server.running());
  EXPECT_THROW(server.add_method("y", [](const Json&) { return Json(); }), std::logic_error);
  EXPECT_EQ(Json::parse(server.dispatch(R"({"jsonrpc":"2.0","id":1,"method":"x"})"))["result"], 2);
}

TEST(ControlDispatch, HostileInputNeverCrashes) {
  ControlServer server(ControlServerOptions{});
  server.add_method("echo", [](const Json& params) { return params; });
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_FALSE(server.dispatch(deep).empty());
  const std::string deep_params = R"({"jsonrpc":"2.0","id":1,"method":"len","params":)" +
                                  std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(Json::parse(server.dispatch(deep_params))["error"]["code"], kRpcMethodNotFound);
  for (const char* s : {"", " ", "nul", "{\"a\":1}}", "[1,]", "\"\\ud800\""}) {
    Json r = Json::parse(server.dispatch(s));
    EXPECT_TRUE(r.contains("error")) << s;
  }
  Json r = Json::parse(
      server.dispatch(R"({"jsonrpc":"2.0","id":1,"method":")" + std::string(5000, 'm') + "\"}"));
  EXPECT_LT(r["error"]["message"].get<std::string>().size(), 200u);
  EXPECT_EQ(server.dispatch(R"({"jsonrpc":"2.0","method":"echo"})"), "");
  EXPECT_EQ(server.dispatch(R"([{"jsonrpc":"2.0","method":"echo"}])"), "");
}

}  // namespace
}  // namespace strowger::common
