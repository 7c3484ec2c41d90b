// libpq: connect, SELECT the subscriber table, build a SubscriberSet.
#include "modules/auth/subscriber_db.h"

#include <libpq-fe.h>

#include <cctype>

namespace strowger::modules::auth {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
using PgResult = std::unique_ptr<PGresult, ResultCloser>;

std::string one_line(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

// "a.b" -> "a"."b" (schema-qualified names keep working).
std::string quoted_table(PGconn* conn, const std::string& table) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = table.find('.', start);
    std::string part = table.substr(start, dot == std::string::npos ? dot : dot - start);
    char* q = PQescapeIdentifier(conn, part.c_str(), part.size());
    if (!q) return {};
    out += q;
    PQfreemem(q);
    if (dot == std::string::npos) return out;
    out += '.';
    start = dot + 1;
  }
}

}  // namespace

bool valid_table_name(const std::string& table) {
  if (table.empty() || table.size() > 63 || table.front() == '.' || table.back() == '.')
    return false;
  for (char c : table)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
  return true;
}

common::Result<std::shared_ptr<const SubscriberSet>> load_subscriber_table(
    const std::string& db_url, const std::string& table, int timeout_s) {
  if (!valid_table_name(table)) return common::Error{0, "invalid table name '" + table + "'"};
  std::string timeout = std::to_string(timeout_s < 1 ? 1 : timeout_s);
  std::string options =
      "-c statement_timeout=" + std::to_string((timeout_s < 1 ? 1 : timeout_s) * 1000);
  const char* keys[] = {"dbname", "connect_timeout", "options", "application_name", nullptr};
  const char* values[] = {db_url.c_str(), timeout.c_str(), options.c_str(), "sipproxy-auth",
                          nullptr};
  Conn conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn) return common::Error{0, "postgresql: out of memory"};
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return common::Error{0, "postgresql: " + one_line(PQerrorMessage(conn.get()))};
  std::string name = quoted_table(conn.get(), table);
  if (name.empty()) return common::Error{0, "postgresql: cannot quote table name " + table};
  std::string sql = "SELECT username, domain, password, ha1, ha1b FROM " + name;
  PgResult res(PQexec(conn.get(), sql.c_str()));
  if (!res || PQresultStatus(res.get()) != PGRES_TUPLES_OK)
    return common::Error{0, "postgresql: " + table + ": " + one_line(PQerrorMessage(conn.get()))};
  auto set = std::make_shared<SubscriberSet>();
  int rows = PQntuples(res.get());
  auto col = [&](int row, int c) {
    return PQgetisnull(res.get(), row, c) ? std::string()
                                          : std::string(PQgetvalue(res.get(), row, c));
  };
  for (int r = 0; r < rows; ++r) {
    Subscriber s;
    s.username = col(r, 0);
    s.domain = col(r, 1);
    s.password = col(r, 2);
    s.ha1 = col(r, 3);
    s.ha1b = col(r, 4);
    if (s.username.empty()) continue;
    set->add(std::move(s));  // a duplicate (username, domain) keeps the first row
  }
  return std::shared_ptr<const SubscriberSet>(set);
}

}  // namespace strowger::modules::auth
