// FakeDnsServer implementation: parse the question, answer from the table (following CNAMEs).
#include "tests/unit/dns/fake_dns_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <stdexcept>

namespace strowger::proxy::dns::testing {

FakeDnsServer::FakeDnsServer(event_base* base) {
  fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) throw std::runtime_error("socket");
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
    throw std::runtime_error("bind");
  }
  socklen_t len = sizeof sin;
  ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  port_ = ntohs(sin.sin_port);
  event_.reset(event_new(base, fd_.get(), EV_READ | EV_PERSIST, &FakeDnsServer::on_readable, this));
  event_add(event_.get(), nullptr);
}

void FakeDnsServer::on_readable(int fd, short, void* arg) {
  auto* self = static_cast<FakeDnsServer*>(arg);
  for (;;) {
    std::uint8_t buf[1500];
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n <= 0) return;
    self->handle(buf, static_cast<std::size_t>(n), from, from_len);
  }
}

void FakeDnsServer::handle(const std::uint8_t* data, std::size_t len, const sockaddr_storage& from,
                           socklen_t from_len) {
  if (len < 12) return;
  const auto id = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
  std::size_t pos = 12;
  std::string qname;
  while (pos < len && data[pos] != 0) {
    const std::size_t l = data[pos];
    if ((l & 0xC0) != 0 || pos + 1 + l > len) return;
    if (!qname.empty()) qname.push_back('.');
    for (std::size_t i = 0; i < l; ++i)
      qname.push_back(static_cast<char>(std::tolower(data[pos + 1 + i])));
    pos += 1 + l;
  }
  if (pos + 5 > len) return;
  const auto qtype = static_cast<std::uint16_t>(data[pos + 1] << 8 | data[pos + 2]);
  const Bytes question_bytes(data + 12, data + pos + 5);
  ++counts_[key(qname, qtype)];
  ++total_;
  if (silent_.contains(qname)) return;

  const WireRecord soa{"test", kSoa, negative_ttl_, rdata_soa(negative_ttl_)};
  Bytes out;
  if (nxdomain_.contains(qname)) {
    out = response(id, 3, question_bytes, {}, {soa});
  } else if (malformed_.contains(qname)) {
    out = response(id, 0, question_bytes, {});
    out[7] = 3;  // claims three answers
    out.insert(out.end(), {0xC0, 0x0C, 0x00});
  } else {
    std::vector<WireRecord> answers;
    std::string owner = qname;
    for (int hop = 0; hop < 8; ++hop) {
      bool found = false;
      for (const WireRecord& r : records_) {
        if (r.name == owner && r.type == qtype) {
          answers.push_back(r);
          found = true;
        }
      }
      if (found || qtype == kCname) break;
      const WireRecord* alias = nullptr;
      for (const WireRecord& r : records_) {
        if (r.name == owner && r.type == kCname) alias = &r;
      }
      if (!alias) break;
      answers.push_back(*alias);
      // The CNAME's rdata is an uncompressed name: decode it back to text.
      std::string target;
      for (std::size_t p = 0; p < alias->rdata.size() && alias->rdata[p] != 0;) {
        if (!target.empty()) target.push_back('.');
        target.append(alias->rdata.begin() + p + 1, alias->rdata.begin() + p + 1 + alias->rdata[p]);
        p += 1 + alias->rdata[p];
      }
      owner = target;
    }
    auto extra = additional_.find(key(qname, qtype));
    out = response(id, 0, question_bytes, answers,
                   answers.empty() ? std::vector<WireRecord>{soa} : std::vector<WireRecord>{},
                   extra == additional_.end() ? std::vector<WireRecord>{} : extra->second);
  }
  ::sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&from),
           from_len);
}

}  // namespace strowger::proxy::dns::testing
