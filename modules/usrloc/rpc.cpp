// ul.show [aor], ul.rm aor [contact], ul.add aor contact [expires q], ul.dump.
#include "modules/usrloc/rpc.h"

namespace strowger::modules::usrloc {
namespace {

using common::ControlError;
using common::Json;

// sipctl sends k=v pairs as an object (numbers typed); a JSON array is read positionally.
std::optional<Json> arg(const Json& params, const char* name, std::size_t position) {
  if (params.is_object() && params.contains(name)) return params[name];
  if (params.is_array() && params.size() > position) return params[position];
  return std::nullopt;
}

std::optional<std::string> string_arg(const Json& params, const char* name, std::size_t pos) {
  auto v = arg(params, name, pos);
  if (!v) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number_integer()) return std::to_string(v->get<std::int64_t>());  // aor=1001
  throw ControlError(common::kRpcInvalidParams, std::string(name) + " must be a string");
}

std::shared_ptr<LocationTable> need(const std::function<std::shared_ptr<LocationTable>()>& f) {
  auto t = f();
  if (!t) throw ControlError(common::kRpcInternalError, "usrloc is not initialized");
  return t;
}

Json aor_json(const std::string& aor, const std::vector<Binding>& bindings, std::int64_t now) {
  Json contacts = Json::array();
  for (const Binding& b : bindings) contacts.push_back(binding_json(b, now));
  return Json{{"aor", aor}, {"contacts", contacts}};
}

}  // namespace

Json binding_json(const Binding& b, std::int64_t now) {
  Json j{{"contact", b.contact},
         {"expires", b.expires - now},
         {"q", b.q < 0 ? Json(nullptr) : Json(b.q / 1000.0)},
         {"call_id", b.call_id},
         {"cseq", b.cseq},
         {"path", b.path},
         {"received", b.received},
         {"source", b.proto + ":" + b.source_ip + ":" + std::to_string(b.source_port)},
         {"socket", b.socket},
         {"connection_id", b.connection_id},
         {"user_agent", b.user_agent},
         {"instance", b.instance},
         {"reg_id", b.reg_id},
         {"ruid", b.ruid},
         {"flags", b.flags},
         {"methods", b.methods},
         {"last_modified", b.last_modified}};
  return j;
}

std::vector<sipproxy::RpcSpec> make_rpcs(std::function<std::shared_ptr<LocationTable>()> table) {
  std::vector<sipproxy::RpcSpec> out;
  out.push_back({"ul.show", "bindings of aor=AOR (all AORs when none)", [table](const Json& p) {
                   auto t = need(table);
                   const std::int64_t now = t->now();
                   if (auto aor = string_arg(p, "aor", 0)) {
                     auto bindings = t->get(*aor);
                     if (bindings.empty())
                       throw ControlError(common::kRpcInvalidParams, "AOR not found: " + *aor);
                     return aor_json(*aor, bindings, now);
                   }
                   Json aors = Json::array();
                   t->for_each([&](const std::string& aor, const std::vector<Binding>& b) {
                     if (!b.empty()) aors.push_back(aor_json(aor, b, now));
                   });
                   return Json{{"aors", aors}, {"count", aors.size()}};
                 }});
  out.push_back(
      {"ul.rm", "removes aor=AOR, or only its contact=URI", [table](const Json& p) {
         auto t = need(table);
         auto aor = string_arg(p, "aor", 0);
         if (!aor) throw ControlError(common::kRpcInvalidParams, "missing 'aor'");
         auto contact = string_arg(p, "contact", 1);
         std::size_t removed = 0;
         t->update(*aor, [&](std::vector<Binding>& bindings) {
           std::size_t before = bindings.size();
           if (contact) {
             std::erase_if(bindings, [&](const Binding& b) { return b.contact == *contact; });
           } else {
             bindings.clear();
           }
           removed = before - bindings.size();
           return removed > 0;
         });
         if (removed == 0)
           throw ControlError(common::kRpcInvalidParams, contact ? "contact not found: " + *contact
                                                                 : "AOR not found: " + *aor);
         return Json{{"aor", *aor}, {"removed", removed}};
       }});
  out.push_back(
      {"ul.add", "adds aor=AOR contact=URI [expires=S (3600)] [q=0..1]", [table](const Json& p) {
         auto t = need(table);
         auto aor = string_arg(p, "aor", 0);
         auto contact = string_arg(p, "contact", 1);
         if (!aor || aor->empty() || !contact || contact->find(':') == std::string::npos)
           throw ControlError(common::kRpcInvalidParams, "needs aor and contact (a URI)");
         std::int64_t expires = 3600;
         if (auto e = arg(p, "expires", 2)) {
           if (!e->is_number_integer() || e->get<std::int64_t>() <= 0 ||
               e->get<std::int64_t>() > 0x7fffffff)
             throw ControlError(common::kRpcInvalidParams, "expires must be positive seconds");
           expires = e->get<std::int64_t>();
         }
         int q = -1;
         if (auto qv = arg(p, "q", 3)) {
           if (!qv->is_number() || qv->get<double>() < 0 || qv->get<double>() > 1)
             throw ControlError(common::kRpcInvalidParams, "q must be between 0 and 1");
           q = static_cast<int>(qv->get<double>() * 1000 + 0.5);
         }
         const std::int64_t now = t->now();
         t->update(*aor, [&](std::vector<Binding>& bindings) {
           auto it = std::find_if(bindings.begin(), bindings.end(),
                                  [&](const Binding& b) { return b.contact == *contact; });
           Binding b = it != bindings.end() ? *it : Binding{};
           b.contact = *contact;
           b.expires = now + expires;
           b.q = q;
           b.call_id = "sipctl";
           b.last_modified = now;
           if (b.ruid.empty()) b.ruid = t->make_ruid(*aor);
           if (it != bindings.end()) {
             *it = std::move(b);
           } else {
             bindings.push_back(std::move(b));
           }
           return true;
         });
         return aor_json(*aor, t->get(*aor), now);
       }});
  out.push_back(
      {"ul.dump", "every AOR with its bindings and the table's size", [table](const Json&) {
         auto t = need(table);
         const std::int64_t now = t->now();
         Json aors = Json::object();
         std::size_t bindings = 0;
         t->for_each([&](const std::string& aor, const std::vector<Binding>& b) {
           if (b.empty()) return;
           Json list = Json::array();
           for (const Binding& x : b) list.push_back(binding_json(x, now));
           aors[aor] = list;
           bindings += b.size();
         });
         return Json{{"aors", aors}, {"aor_count", aors.size()}, {"binding_count", bindings}};
       }});
  return out;
}

}  // namespace strowger::modules::usrloc
