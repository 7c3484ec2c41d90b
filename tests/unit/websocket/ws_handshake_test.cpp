// The opening handshake: the RFC 6455 example, and each way a request is refused.
#include "modules/websocket/ws_handshake.h"

#include <gtest/gtest.h>

#include "ws_test_util.h"

namespace strowger::modules::websocket {
namespace {

// kUpgrade with one header line replaced (or removed when with is empty).
std::string with_header(std::string_view name, std::string_view with) {
  std::string req = test::kUpgrade;
  const std::size_t at = req.find(std::string(name) + ":");
  if (at == std::string::npos) {
    req.insert(req.size() - 2, std::string(with) + "\r\n");
    return req;
  }
  const std::size_t eol = req.find("\r\n", at);
  req.replace(at, eol + 2 - at, with.empty() ? "" : std::string(with) + "\r\n");
  return req;
}

TEST(WsHandshake, Rfc6455Example) {
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  HandshakeAnswer a = answer_handshake(test::kUpgrade, {});
  EXPECT_EQ(a.status, 101);
  EXPECT_EQ(a.reject, Reject::kNone);
  EXPECT_EQ(a.response,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: sip\r\n\r\n");
}

TEST(WsHandshake, AcceptsVariants) {
  // Case-insensitive names and tokens, token lists, absolute-form target, several protocols.
  std::string req =
      "GET ws://sip.example.com/ws?x=1 HTTP/1.1\r\n"
      "host: sip.example.com\r\n"
      "UPGRADE: WebSocket\r\n"
      "connection: Upgrade\r\n"
      "sec-websocket-key:   dGhlIHNhbXBsZSBub25jZQ==  \r\n"
      "Sec-WebSocket-Protocol: chat, SIP\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  HandshakePolicy p;
  p.paths = {"/ws"};
  EXPECT_EQ(answer_handshake(req, p).status, 101);
  // No Origin at all passes an allow-list (not a browser).
  p.origins = {"https://other.example.com"};
  EXPECT_EQ(answer_handshake(with_header("Origin", ""), p).status, 101);
  p.origins = {"https://a.example.com", "HTTPS://WWW.EXAMPLE.COM/"};
  EXPECT_EQ(answer_handshake(test::kUpgrade, p).status, 101);
  // The Connection token may come in a second header line.
  EXPECT_EQ(answer_handshake(
                with_header("Connection", "Connection: keep-alive\r\nConnection: upgrade"), {})
                .status,
            101);
}

struct Case {
  std::string request;
  int status;
  Reject reject;
};

TEST(WsHandshake, Rejects) {
  HandshakePolicy p;
  p.origins = {"https://www.example.com"};
  p.paths = {"/ws", "/sip"};
  std::string post = test::kUpgrade;
  post.replace(0, 3, "POST");
  std::string other_path = test::kUpgrade;
  other_path.replace(4, 3, "/x");
  std::string http10 = test::kUpgrade;
  http10.replace(http10.find("HTTP/1.1"), 8, "HTTP/1.0");
  const std::vector<Case> cases = {
      {"GET /ws HTTP/1.1\r\nHost: a\r\n\r\n", 426, Reject::kNotUpgrade},
      {post, 405, Reject::kMethod},
      {other_path, 404, Reject::kPath},
      {http10, 400, Reject::kMalformed},
      {"\r\n\r\n", 400, Reject::kMalformed},
      {"GET\r\n\r\n", 400, Reject::kMalformed},
      {"GET  /ws HTTP/1.1\r\n\r\n", 400, Reject::kMalformed},
      {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, Reject::kMalformed},
      {with_header("Host", "Host : a"), 400, Reject::kMalformed},
      {with_header("Host", " folded"), 400, Reject::kMalformed},
      {with_header("Host", "no colon"), 400, Reject::kMalformed},
      {with_header("Host", "Host: a\nX: b"), 400, Reject::kMalformed},
      {with_header("Host", ""), 400, Reject::kBadUpgrade},
      {with_header("Host", "Host: a\r\nHost: b"), 400, Reject::kBadUpgrade},
      {with_header("Connection", "Connection: keep-alive"), 400, Reject::kBadUpgrade},
      {with_header("Sec-WebSocket-Key", ""), 400, Reject::kBadUpgrade},
      {with_header("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"), 400,
       Reject::kBadUpgrade},
      {with_header("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q=="), 400,
       Reject::kBadUpgrade},
      {with_header("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"), 426, Reject::kVersion},
      {with_header("Sec-WebSocket-Version", ""), 426, Reject::kVersion},
      {with_header("Origin", "Origin: https://evil.example.com"), 403, Reject::kOrigin},
      {with_header("Origin", "Origin: null"), 403, Reject::kOrigin},
      {with_header("Sec-WebSocket-Protocol", ""), 400, Reject::kNoSipProtocol},
      {with_header("Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: chat, sipx"), 400,
       Reject::kNoSipProtocol},
  };
  for (const Case& c : cases) {
    HandshakeAnswer a = answer_handshake(c.request, p);
    EXPECT_EQ(a.status, c.status) << c.request;
    EXPECT_EQ(a.reject, c.reject) << c.request;
    EXPECT_EQ(a.response.rfind("HTTP/1.1 " + std::to_string(c.status) + " ", 0), 0u) << a.response;
    EXPECT_NE(a.response.find("Content-Length: 0\r\nConnection: close\r\n\r\n"), std::string::npos);
  }
}

TEST(WsHandshake, ErrorResponses) {
  EXPECT_NE(http_error_response(Reject::kMethod).find("\r\nAllow: GET\r\n"), std::string::npos);
  EXPECT_NE(http_error_response(Reject::kVersion).find("\r\nSec-WebSocket-Version: 13\r\n"),
            std::string::npos);
  EXPECT_EQ(http_error_response(Reject::kTooLarge).rfind("HTTP/1.1 431 ", 0), 0u);
  EXPECT_EQ(http_error_response(Reject::kTimeout).rfind("HTTP/1.1 408 ", 0), 0u);
  for (std::size_t r = 0; r < static_cast<std::size_t>(Reject::kCount); ++r)
    EXPECT_STRNE(reject_name(static_cast<Reject>(r)), "unknown");
}

}  // namespace
}  // namespace strowger::modules::websocket
