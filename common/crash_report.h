// A fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) in any thread leaves a line and a
// backtrace on stderr before the process dies with that signal, so an operator's log says why a
// daemon vanished (the default action writes nothing there).
#pragma once

namespace strowger::common {

// Installs the handlers (the main thread's on an alternate stack, so its stack overflow is
// reported too). Call once, early in main. Under ASan/UBSan it does nothing: their reports say
// more.
void install_crash_report(const char* program);

}  // namespace strowger::common
