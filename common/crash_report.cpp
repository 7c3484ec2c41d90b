// Fatal-signal report: only async-signal-safe calls in the handler (write, backtrace_symbols_fd
// after a warm-up call at install time, signal, raise).
#include "common/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdlib>
#include <initializer_list>

namespace strowger::common {
namespace {

const char* g_program = "strowger";

void put(const char* s) {
  const ssize_t rc = ::write(STDERR_FILENO, s, strlen(s));
  (void)rc;
}

void on_fatal(int sig, siginfo_t*, void*) {
  put("\n");
  put(g_program);
  put(": fatal signal ");
  put(sigabbrev_np(sig) != nullptr ? sigabbrev_np(sig) : "?");
  put(", backtrace:\n");
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  // Die of the same signal, so the exit status and core dump are what they would have been.
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

void install_crash_report(const char* program) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
  (void)program;
  return;
#endif
  g_program = program;
  // backtrace() loads libgcc on its first call: not something to do inside the handler.
  void* warm[1];
  backtrace(warm, 1);
  static char alt_stack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = &on_fatal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &sa, nullptr);
}

}  // namespace strowger::common
