// ResponseContext: best-response selection for forking.
#include "proxy/core/response_context.h"

namespace strowger::proxy::core {

int response_rank(int status) {
  if (status >= 600) return 0 * 1000 + status - 600;
  if (status >= 300 && status < 400) return 1000 + status;
  if (status == 408) return 3999;  // a branch that never answered: the least useful 4xx
  if (status == 503) return 4999;  // unreachable: the least useful 5xx
  if (status >= 400 && status < 500) {
    switch (status) {  // responses that let the client retry well (16.7 step 6)
      case 401:
      case 407:
      case 415:
      case 420:
      case 484:
        return 2000 + status - 400;
      default:
        return 3000 + status;
    }
  }
  return 4000 + status;
}

bool ResponseContext::offer_final(int status, std::optional<sip::Message> response,
                                  int branch) {
  if (best_status_ == 0 || response_rank(status) < response_rank(best_status_) ||
      (response_rank(status) == response_rank(best_status_) && !best_response_ && response)) {
    best_status_ = status;
    best_branch_ = branch;
    best_response_ = std::move(response);
    return true;
  }
  return false;
}

bool ResponseContext::has_pending_branches() const {
  for (const auto& b : branches) {
    if (b->state != Branch::State::kDone) return true;
  }
  return false;
}

bool ResponseContext::all_done() const {
  return !has_pending_branches() && (serial_pending.empty() || cancelled);
}

}  // namespace strowger::proxy::core
