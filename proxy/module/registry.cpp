// ModuleRegistry: dlopen, descriptor checks, parameters, init hooks.
#include "proxy/module/registry.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>

namespace strowger::proxy::module {
namespace {

using sipproxy::ParamType;
using sipproxy::ParamValue;

class ParamTable final : public sipproxy::Params {
 public:
  explicit ParamTable(const LoadedModule& m) : module_(m) {}
  std::int64_t get_int(std::string_view name) const override { return value(name).i; }
  const std::string& get_string(std::string_view name) const override { return value(name).s; }
  std::vector<ParamValue> values(std::string_view name) const override {
    auto it = module_.set.find(std::string(name));
    if (it != module_.set.end()) return it->second;
    if (const sipproxy::ParamSpec* spec = find_spec(name)) return {spec->default_value};
    return {};
  }

 private:
  const sipproxy::ParamSpec* find_spec(std::string_view name) const {
    for (const auto& p : module_.descriptor->params) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
  const ParamValue& value(std::string_view name) const {
    static const ParamValue kNone;
    auto it = module_.set.find(std::string(name));
    if (it != module_.set.end() && !it->second.empty()) return it->second.back();
    const sipproxy::ParamSpec* spec = find_spec(name);
    return spec ? spec->default_value : kNone;
  }
  const LoadedModule& module_;
};

std::string strip_so(std::string name) {
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0) name.resize(name.size() - 3);
  return name;
}

bool same_value(const ParamValue& a, const ParamValue& b) {
  return a.type == b.type && (a.type == ParamType::kInt ? a.i == b.i : a.s == b.s);
}

}  // namespace

ModuleRegistry& ModuleRegistry::instance() {
  static ModuleRegistry registry;
  return registry;
}

void ModuleRegistry::set_default_paths(std::vector<std::string> paths) {
  std::lock_guard<std::mutex> lock(mutex_);
  default_paths_ = std::move(paths);
}

const LoadedModule* ModuleRegistry::load(const std::string& name_or_path, const std::string& mpath,
                                         const std::string& where, std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool is_path = name_or_path.find('/') != std::string::npos;
  const std::string base = strip_so(std::filesystem::path(name_or_path).filename().string());
  if (auto it = by_name_.find(base); it != by_name_.end()) return it->second;

  std::vector<std::string> candidates;
  if (is_path) {
    candidates.push_back(name_or_path);
  } else {
    // Strowger's own module directories first: a Kamailio config's mpath names Kamailio's.
    std::vector<std::string> dirs = default_paths_;
    if (!mpath.empty()) dirs.push_back(mpath);
    for (const std::string& d : dirs) candidates.push_back(d + "/" + base + ".so");
  }
  std::string path;
  for (const std::string& c : candidates) {
    if (::access(c.c_str(), R_OK) == 0) {
      path = c;
      break;
    }
  }
  if (path.empty()) {
    *error = "module " + base + " is not available in Strowger";
    if (!candidates.empty()) {
      *error += " (no " + base + ".so in";
      for (const std::string& c : candidates) {
        *error += " " + std::filesystem::path(c).parent_path().string();
      }
      *error += ")";
    }
    return nullptr;
  }
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    *error = "cannot load module " + path + ": " + ::dlerror();
    return nullptr;
  }
  using Entry = const sipproxy::ModuleDescriptor* (*)();
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, "strowger_module"));
  if (entry == nullptr) {
    *error = path + " is not a Strowger module (no strowger_module entry point)";
    return nullptr;
  }
  const sipproxy::ModuleDescriptor* d = entry();
  if (d == nullptr || d->api_version != sipproxy::kModuleApiVersion) {
    *error = "module " + base + " was built for module API " +
             std::to_string(d ? d->api_version : -1) + ", sipproxy has " +
             std::to_string(sipproxy::kModuleApiVersion) + ": rebuild it";
    return nullptr;
  }
  // A symlinked alias (auth_db.so -> auth.so) is the same module.
  for (const auto& m : modules_) {
    if (m->descriptor == d) {
      by_name_[base] = m.get();
      return m.get();
    }
  }
  auto owned = std::make_unique<LoadedModule>();
  owned->descriptor = d;
  owned->handle = handle;
  owned->path = path;
  owned->where = where;
  owned->params = std::make_unique<ParamTable>(*owned);
  LoadedModule* m = owned.get();
  modules_.push_back(std::move(owned));
  by_name_[d->name] = m;
  by_name_[base] = m;
  for (const std::string& alias : d->aliases) by_name_[alias] = m;
  return m;
}

std::optional<std::string> ModuleRegistry::set_param(const std::string& module,
                                                     const std::string& param,
                                                     const ParamValue& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_name_.find(module);
  if (it == by_name_.end()) return "module " + module + " is not loaded";
  LoadedModule& m = *it->second;
  const sipproxy::ParamSpec* spec = nullptr;
  for (const auto& p : m.descriptor->params) {
    if (p.name == param) spec = &p;
  }
  if (spec == nullptr) {
    std::string known;
    for (const auto& p : m.descriptor->params) known += (known.empty() ? "" : ", ") + p.name;
    return "module " + module + " has no parameter '" + param + "'" +
           (known.empty() ? "" : " (it has: " + known + ")");
  }
  ParamValue v = value;
  if (spec->type == ParamType::kInt && v.type == ParamType::kString) {
    char* end = nullptr;
    const long long n = std::strtoll(v.s.c_str(), &end, 10);
    if (v.s.empty() || *end != '\0') return "parameter " + param + " of " + module + " is a number";
    v.i = n;
  }
  if (spec->type == ParamType::kString && v.type == ParamType::kInt) v.s = std::to_string(v.i);
  v.type = spec->type;
  if (spec->validate) {
    if (auto err = spec->validate(v)) return "parameter " + param + " of " + module + ": " + *err;
  }
  if (m.initialized) {
    // A reload: the module runs with the values of the start; say so when they differ.
    auto cur = m.set.find(param);
    const ParamValue& running =
        cur != m.set.end() && !cur->second.empty() ? cur->second.back() : spec->default_value;
    if (!same_value(running, v))
      return "parameter " + param + " of " + module + " changed: module parameters need a restart";
    return std::nullopt;
  }
  m.set[param].push_back(std::move(v));
  return std::nullopt;
}

const LoadedModule* ModuleRegistry::find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::optional<std::string> ModuleRegistry::init_all(sipproxy::ModuleHost& host) {
  std::vector<LoadedModule*> pending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& m : modules_) {
      if (!m->initialized) pending.push_back(m.get());
    }
  }
  for (LoadedModule* m : pending) {
    if (m->descriptor->init_process) {
      if (auto err = m->descriptor->init_process(host, *m->params)) return m->where + ": " + *err;
    }
    m->initialized = true;
  }
  return std::nullopt;
}

void ModuleRegistry::init_worker(const sipproxy::WorkerInfo& worker) {
  for (const LoadedModule* m : modules()) {
    if (m->initialized && m->descriptor->init_worker) m->descriptor->init_worker(worker);
  }
}

void ModuleRegistry::stop_worker(const sipproxy::WorkerInfo& worker) {
  for (const LoadedModule* m : modules()) {
    if (m->initialized && m->descriptor->stop_worker) m->descriptor->stop_worker(worker);
  }
}

void ModuleRegistry::shutdown() {
  for (const LoadedModule* m : modules()) {
    if (m->initialized && m->descriptor->shutdown) m->descriptor->shutdown();
  }
}

std::vector<const LoadedModule*> ModuleRegistry::modules() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const LoadedModule*> out;
  for (const auto& m : modules_) out.push_back(m.get());
  return out;
}

}  // namespace strowger::proxy::module
