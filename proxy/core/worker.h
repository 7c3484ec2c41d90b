// Worker: one thread with its own event loop, sockets, timers, transactions and proxy state.
// Workers share nothing mutable; a message for another worker goes through that worker's inbox.
#pragma once
#include <event2/event.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/timer_heap.h"
#include "proxy/config/config.h"
#include "proxy/core/local_addresses.h"
#include "proxy/core/proxy.h"
#include "proxy/dns/resolver.h"
#include "proxy/transaction/transaction_layer.h"
#include "proxy/transport/tcp.h"
#include "proxy/transport/udp.h"
#include "sipproxy/transport.h"
#include "sipproxy/script.h"

namespace strowger::proxy::core {

class Worker;

// The fixed set of workers, built before any thread starts.
class WorkerGroup {
 public:
  std::vector<std::unique_ptr<Worker>> workers;
  int size_hint = 1;  // how many workers there will be (set before the first is built)
  // Run on each worker's thread when it starts and stops (the modules' per-worker hooks).
  std::function<void(int index, event_base* loop)> on_start;
  std::function<void(int index, event_base* loop)> on_stop;
  // The modules' transport services (set after the modules' init_process, before the workers
  // open their listeners); nullptr when the module is not loaded.
  sipproxy::TlsService* tls = nullptr;
  sipproxy::WebSocketService* ws = nullptr;
  transport::ConnectionDirectory connections;
  // Responses whose top Via branch starts with prefix go to fn instead of the transaction layer
  // (sipproxy::ModuleHost::on_reply); fixed before the workers run.
  struct ReplyHook {
    std::string prefix;
    std::function<void(sip::Message& reply, const sipproxy::Peer& from)> fn;
  };
  std::vector<ReplyHook> reply_hooks;
  Worker* at(int index) const {
    return index >= 0 && index < static_cast<int>(workers.size())
               ? workers[static_cast<std::size_t>(index)].get()
               : nullptr;
  }
};

struct WorkerStats {
  std::uint64_t received = 0;
  std::uint64_t parse_errors = 0;
  std::uint64_t invalid = 0;
  std::uint64_t handed_over = 0;  // responses passed to the worker owning their transaction
};

// A consistent copy of one worker's counters, taken on its own thread.
struct WorkerSnapshot {
  WorkerStats worker;
  ProxyStats proxy;
  transaction::TransactionStats transactions;
  std::size_t server_transactions = 0;
  std::size_t client_transactions = 0;
  std::size_t response_contexts = 0;
  transport::UdpCounters udp;
  transport::TcpCounters tcp;
  std::size_t tcp_connections = 0;
  std::uint64_t dns_queries = 0;
  std::uint64_t dns_cache_hits = 0;
};

class Worker final : public transport::Receiver, public transaction::Sender {
 public:
  Worker(int index, const config::ProxyConfig& config, const LocalAddresses& local,
         WorkerGroup& group);
  ~Worker() override;

  // Binds this worker's sockets; an error names the config line.
  std::optional<std::string> open_listeners();
  // The address a listener is bound to (the kernel's port when 0 was configured).
  transport::Address bound_address(int listener) const;
  void run();   // the thread body
  void stop();  // any thread

  // Any thread: hand over a received response, or a message to send on one of our connections.
  void post_response(sip::Message&& response, const transport::Peer& from);
  // from_worker (>= 0) learns when the send failed (its transactions on that connection fail).
  void post_send(std::string bytes, const transport::Peer& to, int from_worker = -1);
  // Any thread: runs task on this worker's thread.
  void post_task(std::function<void()> task);
  // Worker thread only (or before run()).
  WorkerSnapshot snapshot() const;
  void set_program(std::shared_ptr<const script::engine::Program> program) {
    proxy_->set_program(std::move(program));
  }

  // transport::Receiver
  void on_message(std::string_view bytes, const transport::Peer& from) override;
  void on_framing_error(std::string_view head, const transport::Peer& from, int status) override;
  void on_connection_closed(std::uint64_t connection_id) override;
  // transaction::Sender
  std::uint64_t send(const transport::Peer& to, std::string_view bytes) override;

  int index() const { return index_; }
  const LocalAddresses& local() const { return local_; }
  const WorkerStats& stats() const { return stats_; }

 private:
  struct Inbound {
    bool is_send = false;
    std::string bytes;
    transport::Peer peer;
    std::function<void()> task;  // when set, the rest is unused
    std::optional<sip::Message> response;  // a response handed over by another worker
    int from_worker = -1;                   // who posted a send
  };
  void handle(sip::Message&& message, const transport::Peer& from);
  void after_event();
  static void on_timer(evutil_socket_t, short, void* arg);
  static void on_wakeup(evutil_socket_t, short, void* arg);
  static void on_stop(evutil_socket_t, short, void* arg);

  int index_;
  const config::ProxyConfig& config_;
  const LocalAddresses& local_;
  WorkerGroup& group_;
  event_base* base_;
  common::SteadyClock clock_;
  common::TimerHeap timers_;
  std::unique_ptr<transport::UdpTransport> udp_;
  // Stream transports by protocol (TCP always; TLS with the tls module; WS/WSS when listening).
  std::unique_ptr<transport::TcpTransport> streams_[5];
  transport::TcpTransport* stream(transport::Protocol p) const {
    return streams_[static_cast<std::size_t>(p)].get();
  }
  // The stream transport for a protocol, made on first use with the modules' services.
  transport::TcpTransport& make_stream(transport::Protocol p);
  bool run_reply_hook(sip::Message& response, const transport::Peer& from);
  void send_failed_elsewhere(std::uint64_t connection_id);
  std::unique_ptr<dns::Resolver> resolver_;
  std::unique_ptr<Proxy> proxy_;
  std::unique_ptr<transaction::TransactionLayer> layer_;
  event* timer_ev_ = nullptr;
  event* wakeup_ev_ = nullptr;
  event* stop_ev_ = nullptr;
  std::int64_t armed_deadline_ = -1;
  std::mutex inbox_mutex_;
  std::vector<Inbound> inbox_;
  std::vector<Inbound> draining_;
  WorkerStats stats_;
};

}  // namespace strowger::proxy::core
