// TransactionLayer: transaction tables, matching (RFC 3261 17.1.3, 17.2.3, RFC 2543 fallback),
// CANCEL handling (9.2) and branch ids that encode the owning worker.
#include "proxy/transaction/transaction_layer.h"

#include <charconv>
#include <random>

#include "common/log.h"

namespace strowger::proxy::transaction {
namespace {

constexpr std::string_view kOurPrefix = "z9hG4bK-sw";

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

void append_hex(std::string& out, std::uint64_t v) {
  char buf[17];
  auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
  out.append(buf, r.ptr);
}

bool rfc3261_branch(std::string_view branch) {
  return branch.size() > TransactionLayer::kMagicCookie.size() &&
         branch.substr(0, TransactionLayer::kMagicCookie.size()) == TransactionLayer::kMagicCookie;
}

}  // namespace

TransactionLayer::TransactionLayer(common::TimerHeap& timers, Sender& sender,
                                   TransactionUser& user, TimerSettings settings,
                                   int worker_index)
    : timers_(timers),
      sender_(sender),
      user_(user),
      settings_(settings),
      worker_index_(worker_index),
      seed_(std::random_device{}() ^ (static_cast<std::uint64_t>(std::random_device{}()) << 32)) {}

TransactionLayer::~TransactionLayer() {
  // Destroy quietly: the transaction user is going away with us.
  dead_servers_.clear();
  dead_clients_.clear();
  clients_.clear();
  servers_.clear();
}

std::string TransactionLayer::new_branch(std::string_view tag) {
  std::string b;
  b.reserve(48);
  b.append(kOurPrefix);
  b.append(std::to_string(worker_index_));
  b.push_back('-');
  append_hex(b, mix(seed_ + ++counter_));
  b.push_back('-');
  b.append(tag);
  return b;
}

std::string TransactionLayer::new_tag() {
  std::string t;
  t.reserve(16);
  append_hex(t, mix(seed_ ^ (++counter_ * 0x9e3779b97f4a7c15ULL)));
  return t;
}

int TransactionLayer::branch_worker(std::string_view branch) {
  if (branch.substr(0, kOurPrefix.size()) != kOurPrefix) return -1;
  branch.remove_prefix(kOurPrefix.size());
  int worker = 0;
  auto r = std::from_chars(branch.data(), branch.data() + branch.size(), worker);
  if (r.ec != std::errc() || r.ptr == branch.data() || r.ptr == branch.data() + branch.size() ||
      *r.ptr != '-')
    return -1;
  return worker;
}

std::string_view TransactionLayer::branch_tag(std::string_view branch) {
  if (branch_worker(branch) < 0) return {};
  std::size_t first = branch.find('-', kOurPrefix.size());
  std::size_t second = branch.find('-', first + 1);
  if (second == std::string_view::npos) return {};
  return branch.substr(second + 1);
}

std::string TransactionLayer::server_key(const sip::Message& request, bool as_invite) {
  std::optional<sip::Via> via = request.via(0);
  std::string key;
  key.reserve(128);
  std::string_view method = as_invite ? std::string_view("INVITE") : request.method_name();
  if (request.method() == sip::Method::kAck) method = "INVITE";
  if (via && rfc3261_branch(via->branch)) {
    key.append("3|").append(via->branch).append("|").append(via->host).append(":");
    key.append(std::to_string(via->port)).append("|").append(method);
    return key;
  }
  // RFC 2543 matching: Request-URI, From tag, Call-ID, CSeq number and the top Via.
  key.append("2|").append(request.request_uri().to_string()).append("|");
  key.append(request.from_tag()).append("|").append(request.call_id()).append("|");
  key.append(std::to_string(request.cseq())).append("|");
  if (via) {
    key.append(via->host).append(":").append(std::to_string(via->port)).append(";");
    key.append(via->branch);
  }
  key.append("|").append(method);
  return key;
}

std::string TransactionLayer::client_key(std::string_view branch, std::string_view cseq_method) {
  std::string key;
  key.reserve(branch.size() + cseq_method.size() + 1);
  key.append(branch).append("|").append(cseq_method);
  return key;
}

void TransactionLayer::receive_request(sip::Message&& request, const transport::Peer& from) {
  const sip::Method method = request.method();
  if (method == sip::Method::kAck) {
    auto it = servers_.find(server_key(request, true));
    if (it != servers_.end() && it->second->state() != ServerTransaction::State::kAccepted) {
      ++stats_.retransmissions_absorbed;
      it->second->on_ack();
      return;
    }
    user_.on_stray_ack(request, from);
    return;
  }
  std::string key = server_key(request, false);
  if (auto it = servers_.find(key); it != servers_.end()) {
    ++stats_.retransmissions_absorbed;
    it->second->on_retransmission();
    return;
  }
  ServerTransaction* invite = nullptr;
  if (method == sip::Method::kCancel) {
    auto it = servers_.find(server_key(request, true));
    if (it != servers_.end()) invite = it->second.get();
  }
  if (method == sip::Method::kCancel) {
    // RFC 3261 9.2 / 16.10: answer the CANCEL ourselves; cancel the INVITE's branches.
    auto owned = std::make_unique<ServerTransaction>(*this, key, std::move(request), from);
    ServerTransaction& st = *owned;
    servers_.emplace(std::move(key), std::move(owned));
    ++stats_.server_created;
    if (invite == nullptr) {
      st.reply(481, "Call/Transaction Does Not Exist");
      return;
    }
    st.reply(200, "OK");
    if (!invite->final_sent()) user_.on_cancel(*invite);
    return;
  }
  user_.on_new_request(*this, request, from);
}

ServerTransaction& TransactionLayer::create_server(sip::Message&& request,
                                                   const transport::Peer& from) {
  const sip::Method method = request.method();
  std::string key = server_key(request, false);
  auto owned = std::make_unique<ServerTransaction>(*this, key, std::move(request), from);
  ServerTransaction& st = *owned;
  servers_[std::move(key)] = std::move(owned);
  ++stats_.server_created;
  if (method == sip::Method::kInvite) st.reply(100, "Trying");
  return st;
}

ServerTransaction* TransactionLayer::find_server(const sip::Message& request, bool as_invite) {
  auto it = servers_.find(server_key(request, as_invite));
  return it == servers_.end() ? nullptr : it->second.get();
}

void TransactionUser::on_new_request(TransactionLayer& layer, sip::Message& request,
                                     const transport::Peer& from) {
  ServerTransaction& st = layer.create_server(std::move(request), from);
  on_request(st, st.request());
}

void TransactionLayer::receive_response(sip::Message&& response, const transport::Peer& from) {
  std::optional<sip::Via> via = response.via(0);
  if (via) {
    auto it = clients_.find(client_key(via->branch, response.cseq_method_name()));
    if (it != clients_.end()) {
      it->second->on_response(response);
      return;
    }
  }
  ++stats_.stray_responses;
  user_.on_stray_response(response, from);
}

void TransactionLayer::connection_closed(std::uint64_t connection_id) {
  std::vector<ClientTransaction*> hit;
  for (auto& [key, ct] : clients_) {
    if (ct->connection_id() == connection_id && transport::is_reliable(ct->destination().proto))
      hit.push_back(ct.get());
  }
  for (ClientTransaction* ct : hit) ct->on_transport_failure();
}

ClientTransaction& TransactionLayer::start_client(sip::Message&& request,
                                                  const transport::Peer& to, void* user_data,
                                                  int final_ms, int timer_c_ms) {
  std::optional<sip::Via> via = request.via(0);
  std::string key = client_key(via ? via->branch : std::string(), request.method_name());
  auto owned = std::make_unique<ClientTransaction>(*this, key, std::move(request), to, false);
  ClientTransaction& ct = *owned;
  ct.user_data = user_data;
  ct.set_timeouts(final_ms, timer_c_ms);
  clients_[std::move(key)] = std::move(owned);
  ++stats_.client_created;
  ct.start();
  return ct;
}

ClientTransaction& TransactionLayer::start_internal_client(sip::Message&& request,
                                                           const transport::Peer& to) {
  std::optional<sip::Via> via = request.via(0);
  std::string key = client_key(via ? via->branch : std::string(), request.method_name());
  auto owned = std::make_unique<ClientTransaction>(*this, key, std::move(request), to, true);
  ClientTransaction& ct = *owned;
  clients_[std::move(key)] = std::move(owned);
  ct.start();
  return ct;
}

void TransactionLayer::server_terminated(ServerTransaction& st) {
  auto it = servers_.find(st.key());
  if (it == servers_.end() || it->second.get() != &st) return;
  dead_servers_.push_back(std::move(it->second));
  servers_.erase(it);
  user_.on_server_gone(st);
}

void TransactionLayer::client_terminated(ClientTransaction& ct) {
  auto it = clients_.find(ct.key());
  if (it == clients_.end() || it->second.get() != &ct) return;
  dead_clients_.push_back(std::move(it->second));
  clients_.erase(it);
  user_.on_client_gone(ct);
}

void TransactionLayer::collect() {
  dead_servers_.clear();
  dead_clients_.clear();
}

}  // namespace strowger::proxy::transaction
