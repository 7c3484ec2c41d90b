// ModuleRegistry: the modules this process loaded (dlopen), their parameters, and the lookups
// the script compiler makes (functions, pseudo-variables). Built at start-up, then read-only
// apart from what reloads compare.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sipproxy/module.h"

namespace strowger::proxy::module {

struct LoadedModule {
  const sipproxy::ModuleDescriptor* descriptor = nullptr;
  void* handle = nullptr;  // dlopen handle; never closed (code may still be referenced)
  std::string path;        // the .so file
  std::string where;       // "file:line:col" of the first loadmodule line
  std::map<std::string, std::vector<sipproxy::ParamValue>> set;  // modparam values
  bool initialized = false;
  std::unique_ptr<sipproxy::Params> params;
};

class ModuleRegistry {
 public:
  // The one registry of the process (modules are process-wide, as dlopen is).
  static ModuleRegistry& instance();

  // Where loadmodule looks for NAME.so: the script's mpath, else these (set by main: the
  // build's lib/modules next to the executable, then the install path).
  void set_default_paths(std::vector<std::string> paths);

  // Loads (or finds, when already loaded) the module of a loadmodule line: "registrar",
  // "registrar.so" or a path. Returns the module or an error text.
  const LoadedModule* load(const std::string& name_or_path, const std::string& mpath,
                           const std::string& where, std::string* error);
  // A modparam: checks the name, type and validation. Before init the value is recorded; after
  // init (a reload) it must equal the running value (parameters need a restart).
  std::optional<std::string> set_param(const std::string& module, const std::string& param,
                                       const sipproxy::ParamValue& value);
  // Called after a successful compile at start-up: drop values a failed compile left behind.
  const LoadedModule* find(std::string_view name) const;

  // Runs init_process of every loaded module not initialized yet (start-up order). Returns
  // "where: error" on the first failure.
  std::optional<std::string> init_all(sipproxy::ModuleHost& host);
  void init_worker(const sipproxy::WorkerInfo& worker);
  void stop_worker(const sipproxy::WorkerInfo& worker);
  void shutdown();

  std::vector<const LoadedModule*> modules() const;

 private:
  mutable std::mutex mutex_;  // loads happen on the main or control thread (reload)
  std::vector<std::string> default_paths_;
  std::vector<std::unique_ptr<LoadedModule>> modules_;
  std::map<std::string, LoadedModule*, std::less<>> by_name_;  // names and aliases
};

}  // namespace strowger::proxy::module
