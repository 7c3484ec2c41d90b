// usrloc's RPC commands (sipctl ul.show, ul.rm, ul.add, ul.dump) over a LocationTable.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "modules/usrloc/location_table.h"
#include "sipproxy/module.h"

namespace strowger::modules::usrloc {

// table() gives the current table (null before init: the commands then say so).
std::vector<sipproxy::RpcSpec> make_rpcs(std::function<std::shared_ptr<LocationTable>()> table);

// One binding as JSON (expires as seconds left).
common::Json binding_json(const Binding& b, std::int64_t now);

}  // namespace strowger::modules::usrloc
