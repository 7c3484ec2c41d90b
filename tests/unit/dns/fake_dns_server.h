// FakeDnsServer: a tiny authoritative DNS server on 127.0.0.1 (UDP, port 0) for resolver tests.
// Answers from a table on the test's own event loop, and counts the queries it receives.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "proxy/transport/event_handles.h"
#include "tests/unit/dns/dns_wire.h"

namespace strowger::proxy::dns::testing {

class FakeDnsServer {
 public:
  static constexpr std::uint16_t kA = 1, kCname = 5, kSoa = 6, kAaaa = 28, kSrv = 33, kNaptr = 35;

  explicit FakeDnsServer(event_base* base);
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void add(std::string name, std::uint16_t type, Bytes rdata, std::uint32_t ttl = 300) {
    records_.push_back(WireRecord{std::move(name), type, ttl, std::move(rdata)});
  }
  void add_a(std::string name, const char* ip, std::uint32_t ttl = 300) {
    add(std::move(name), kA, rdata_a(ip), ttl);
  }
  void add_aaaa(std::string name, const char* ip, std::uint32_t ttl = 300) {
    add(std::move(name), kAaaa, rdata_aaaa(ip), ttl);
  }
  void add_srv(std::string name, std::uint16_t priority, std::uint16_t weight, std::uint16_t port,
               std::string target, std::uint32_t ttl = 300) {
    add(std::move(name), kSrv, rdata_srv(priority, weight, port, target), ttl);
  }
  void add_naptr(std::string name, std::uint16_t order, std::uint16_t preference,
                 std::string service, std::string replacement, std::uint32_t ttl = 300) {
    add(std::move(name), kNaptr, rdata_naptr(order, preference, "s", service, "", replacement),
        ttl);
  }
  void add_cname(std::string name, std::string target, std::uint32_t ttl = 300) {
    add(std::move(name), kCname, encode_name(target), ttl);
  }
  // An address record sent in the additional section of responses to (qname, qtype).
  void add_additional(const std::string& qname, std::uint16_t qtype, WireRecord record) {
    additional_[key(qname, qtype)].push_back(std::move(record));
  }
  void set_nxdomain(std::string name) { nxdomain_.insert(std::move(name)); }
  // Queries for this name get no answer at all.
  void set_silent(std::string name) { silent_.insert(std::move(name)); }
  // Queries for this name get a response whose answer section is cut short.
  void set_malformed(std::string name) { malformed_.insert(std::move(name)); }
  // Negative answers carry an SOA with this TTL and MINIMUM.
  void set_negative_ttl(std::uint32_t ttl) { negative_ttl_ = ttl; }

  int queries(const std::string& name, std::uint16_t type) const {
    auto it = counts_.find(key(name, type));
    return it == counts_.end() ? 0 : it->second;
  }
  int total_queries() const { return total_; }

 private:
  static std::string key(const std::string& name, std::uint16_t type) {
    return std::to_string(type) + "/" + name;
  }
  static void on_readable(int fd, short what, void* arg);
  void handle(const std::uint8_t* data, std::size_t len, const sockaddr_storage& from,
              socklen_t from_len);

  transport::Fd fd_;
  transport::EventPtr event_;
  std::uint16_t port_ = 0;
  std::vector<WireRecord> records_;
  std::map<std::string, std::vector<WireRecord>> additional_;
  std::set<std::string> nxdomain_, silent_, malformed_;
  std::uint32_t negative_ttl_ = 3600;
  std::map<std::string, int> counts_;
  int total_ = 0;
};

}  // namespace strowger::proxy::dns::testing
