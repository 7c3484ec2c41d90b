// Bytes per binding of usrloc's table: heap growth (mallinfo2) for N AORs with one typical
// binding each (a SIPp/softphone-like REGISTER over UDP). Prints one JSON line.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "modules/usrloc/location_table.h"

int main(int argc, char** argv) {
  using strowger::modules::usrloc::Binding;
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  strowger::modules::usrloc::LocationTable table;
  const std::int64_t now = table.now();
  malloc_trim(0);
  const std::size_t before = mallinfo2().uordblks;
  for (int i = 0; i < n; ++i) {
    std::string aor = "user" + std::to_string(100000 + i);
    table.update(aor, [&](std::vector<Binding>& v) {
      Binding b;
      b.contact = "sip:" + aor + "@192.168.1." + std::to_string(i % 250) + ":5060";
      b.expires = now + 3600;
      b.call_id = std::to_string(i) + "-4711@192.168.1.20";
      b.cseq = 1;
      b.proto = "udp";
      b.source_ip = "192.168.1." + std::to_string(i % 250);
      b.source_port = 5060;
      b.socket = "udp:10.0.0.1:5060";
      b.user_agent = "Linphone/5.2";
      b.ruid = table.make_ruid(aor);
      b.last_modified = now;
      v.push_back(std::move(b));
      return true;
    });
  }
  const std::size_t after = mallinfo2().uordblks;
  const double per = static_cast<double>(after - before) / n;
  std::printf("{\"figure\":\"usrloc_bytes_per_binding\",\"aors\":%d,\"bytes\":%.1f}\n", n, per);
  return table.binding_count() == static_cast<std::size_t>(n) ? 0 : 1;
}
