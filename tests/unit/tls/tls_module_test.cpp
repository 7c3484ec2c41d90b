// The real tls.so through the module API: dlopen, init_process with a host whose config has
// (or lacks) a tls: section, the provided TlsService, and the RPC commands.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <fstream>

#include "sipproxy/module.h"
#include "sipproxy/transport.h"
#include "tests/unit/support/test_module_host.h"
#include "tests/unit/tls/test_pki.h"

namespace strowger::modules::tls {
namespace {

using testing::Identity;
using testing::TempDir;
using testing::TestPki;

// The host of a sipproxy.yaml in dir.
class FakeHost : public test_support::TestModuleHost {
 public:
  FakeHost(std::string yaml, std::string in_dir) {
    file = std::move(yaml);
    dir = std::move(in_dir);
  }
};

class NoParams : public sipproxy::Params {
 public:
  std::int64_t get_int(std::string_view) const override { return 0; }
  const std::string& get_string(std::string_view) const override { return empty_; }
  std::vector<sipproxy::ParamValue> values(std::string_view) const override { return {}; }

 private:
  std::string empty_;
};

const sipproxy::ModuleDescriptor* load_module() {
  static void* handle = dlopen(STROWGER_MODULE_DIR "/tls.so", RTLD_NOW | RTLD_LOCAL);
  if (!handle) return nullptr;
  using Entry = const sipproxy::ModuleDescriptor* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "strowger_module"));
  return entry ? entry() : nullptr;
}

const sipproxy::RpcSpec& rpc(const sipproxy::ModuleDescriptor& d, const std::string& name) {
  for (const auto& r : d.rpcs) {
    if (r.name == name) return r;
  }
  throw std::runtime_error("no rpc " + name);
}

TEST(TlsModule, LoadsProvidesTheServiceAndAnswersRpc) {
  const sipproxy::ModuleDescriptor* d = load_module();
  ASSERT_NE(d, nullptr) << dlerror();
  EXPECT_EQ(d->name, "tls");
  EXPECT_EQ(d->api_version, sipproxy::kModuleApiVersion);

  TempDir dir;
  TestPki pki(dir.path(), "ca");
  pki.issue("server", "localhost", "DNS:localhost", 7);
  const std::string yaml = dir.file("sipproxy.yaml");
  std::ofstream(yaml) << "workers: 1\ntls:\n  certificate: server.pem\n  private_key: server.key\n"
                         "  ca_list: ca-ca.pem\n";
  FakeHost host(yaml, dir.path());
  NoParams params;
  auto err = d->init_process(host, params);
  ASSERT_FALSE(err.has_value()) << *err;
  auto service = std::static_pointer_cast<sipproxy::TlsService>(host.find(sipproxy::kTlsService));
  ASSERT_NE(service, nullptr);

  const common::Json info = rpc(*d, "tls.info").handler(common::Json::object());
  EXPECT_EQ(info["certificates"][0]["serial"], "07");
  EXPECT_EQ(rpc(*d, "tls.list").handler(common::Json::object())["count"], 0);

  // Renewed certificate: reload picks it up.
  pki.issue("server", "localhost", "DNS:localhost", 8);
  const common::Json reloaded = rpc(*d, "tls.reload").handler(common::Json::object());
  EXPECT_EQ(reloaded["certificates"][0]["serial"], "08");

  // A reload that cannot load its files is an RPC error and keeps the old certificate.
  std::ofstream(yaml) << "tls:\n  certificate: server.pem\n  private_key: missing.key\n";
  try {
    rpc(*d, "tls.reload").handler(common::Json::object());
    ADD_FAILURE() << "reload with a missing key succeeded";
  } catch (const common::ControlError& e) {
    EXPECT_NE(std::string(e.what()).find("tls.private_key: " + dir.file("missing.key") +
                                         ": No such file or directory"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(rpc(*d, "tls.info").handler(common::Json::object())["certificates"][0]["serial"], "08");
  d->shutdown();
}

TEST(TlsModule, StartupErrorNamesTheFile) {
  const sipproxy::ModuleDescriptor* d = load_module();
  ASSERT_NE(d, nullptr);
  TempDir dir;
  const std::string yaml = dir.file("sipproxy.yaml");
  std::ofstream(yaml) << "tls:\n  certificate: /x/y.pem\n  private_key: k.pem\n";
  FakeHost host(yaml, dir.path());
  NoParams params;
  auto err = d->init_process(host, params);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, yaml + ":2: tls.certificate: /x/y.pem: No such file or directory");
  EXPECT_EQ(host.find(sipproxy::kTlsService), nullptr);
  d->shutdown();
}

TEST(TlsModule, WithoutATlsSectionItIdles) {
  const sipproxy::ModuleDescriptor* d = load_module();
  ASSERT_NE(d, nullptr);
  TempDir dir;
  const std::string yaml = dir.file("sipproxy.yaml");
  std::ofstream(yaml) << "workers: 1\n";
  FakeHost host(yaml, dir.path());
  NoParams params;
  EXPECT_FALSE(d->init_process(host, params).has_value());
  EXPECT_EQ(host.find(sipproxy::kTlsService), nullptr);
  EXPECT_EQ(rpc(*d, "tls.list").handler(common::Json::object())["count"], 0);
  EXPECT_THROW(rpc(*d, "tls.reload").handler(common::Json::object()), common::ControlError);
  d->shutdown();
}

}  // namespace
}  // namespace strowger::modules::tls
