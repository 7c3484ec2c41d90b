// PostgreSQL subscriber table (Kamailio's schema: username, domain, password, ha1, ha1b) read
// through libpq into a SubscriberSet. libpq is wrapped here and nowhere else.
#pragma once
#include <memory>
#include <string>

#include "common/result.h"
#include "modules/auth/subscribers.h"

namespace strowger::modules::auth {

// Reads the whole table (blocking, bounded by timeout_s for connect and statement), meant for
// the module timer thread, never a worker. Errors are one line for logs and sipctl.
common::Result<std::shared_ptr<const SubscriberSet>> load_subscriber_table(
    const std::string& db_url, const std::string& table, int timeout_s);

// Table names come from the script; only [A-Za-z0-9_.] is accepted (then quoted anyway).
bool valid_table_name(const std::string& table);

}  // namespace strowger::modules::auth
