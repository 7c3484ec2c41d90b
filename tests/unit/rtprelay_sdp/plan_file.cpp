// Golden plan format: one directive a line ("session ...", "media N ...", "candidate N ...",
// "media-add N ...", "session-add ..."), key=value words, '#' comments.
#include "plan_file.h"

#include <sstream>
#include <vector>

namespace strowger::rtprelay::sdp {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::optional<Direction> direction_of(const std::string& s) {
  return parse_direction(s);
}

MediaPlan& media_at(RewritePlan* plan, std::size_t i) {
  if (plan->media.size() <= i) plan->media.resize(i + 1);
  return plan->media[i];
}

std::optional<std::string> apply_session(const std::vector<std::string>& words, SessionPlan* s) {
  for (std::size_t k = 1; k < words.size(); k++) {
    const std::string& w = words[k];
    std::size_t eq = w.find('=');
    std::string key = w.substr(0, eq), value = eq == std::string::npos ? "" : w.substr(eq + 1);
    if (key == "replace-origin")
      s->replace_origin = true;
    else if (key == "replace-session-connection")
      s->replace_session_connection = true;
    else if (key == "bump-version")
      s->bump_version = true;
    else if (key == "zero-address")
      s->replace_zero_address = true;
    else if (key == "ice-lite")
      s->ice_lite = true;
    else if (key == "address")
      s->address = value;
    else if (key == "strip")
      s->strip_attributes = split(value, ',');
    else
      return "unknown session key " + key;
  }
  return std::nullopt;
}

std::optional<std::string> apply_media(const std::vector<std::string>& words, MediaPlan* m) {
  for (std::size_t k = 2; k < words.size(); k++) {
    const std::string& w = words[k];
    std::size_t eq = w.find('=');
    std::string key = w.substr(0, eq), value = eq == std::string::npos ? "" : w.substr(eq + 1);
    if (key == "reject")
      m->reject = true;
    else if (key == "address")
      m->address = value;
    else if (key == "rtp")
      m->rtp_port = static_cast<uint16_t>(std::stoul(value));
    else if (key == "rtcp")
      m->rtcp_port = static_cast<uint16_t>(std::stoul(value));
    else if (key == "rtcp-mux") {
      if (value == "separate")
        m->rtcp = RtcpMode::kSeparate;
      else if (value == "offered")
        m->rtcp = RtcpMode::kMuxOffered;
      else if (value == "mux")
        m->rtcp = RtcpMode::kMux;
      else
        return "bad rtcp-mux " + value;
    } else if (key == "rtcp-attr") {
      if (value == "short")
        m->rtcp_attribute = RtcpAttribute::kShort;
      else if (value == "full")
        m->rtcp_attribute = RtcpAttribute::kFull;
      else if (value == "omit")
        m->rtcp_attribute = RtcpAttribute::kOmit;
      else
        return "bad rtcp-attr " + value;
    } else if (key == "ice") {
      if (value == "keep")
        m->ice = IceMode::kKeep;
      else if (value == "remove")
        m->ice = IceMode::kRemove;
      else if (value == "replace")
        m->ice = IceMode::kReplace;
      else
        return "bad ice " + value;
    } else if (key == "ufrag")
      m->ice_ufrag = value;
    else if (key == "pwd")
      m->ice_pwd = value;
    else if (key == "end-of-candidates")
      m->end_of_candidates = true;
    else if (key == "proto")
      m->proto = value;
    else if (key == "direction") {
      m->direction = direction_of(value);
      if (!m->direction) return "bad direction " + value;
    } else if (key == "zero-address")
      m->replace_zero_address = true;
    else if (key == "strip")
      m->strip_attributes = split(value, ',');
    else
      return "unknown media key " + key;
  }
  return std::nullopt;
}

}  // namespace

common::Result<RewritePlan> parse_plan_file(std::string_view text) {
  RewritePlan plan;
  std::istringstream in{std::string(text)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    n++;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> words = split(line, ' ');
    const std::string& verb = words[0];
    std::optional<std::string> err;
    try {
      if (verb == "session") {
        err = apply_session(words, &plan.session);
      } else if (verb == "session-add") {
        plan.session.add_attributes.push_back(line.substr(verb.size() + 1));
      } else if (words.size() >= 2 && verb == "media") {
        err = apply_media(words, &media_at(&plan, std::stoul(words[1])));
      } else if (words.size() >= 3 && verb == "media-add") {
        std::size_t at = line.find(words[2], verb.size() + words[1].size() + 1);
        media_at(&plan, std::stoul(words[1])).add_attributes.push_back(line.substr(at));
      } else if (words.size() == 7 && verb == "candidate") {
        IceCandidate c{words[2], static_cast<uint32_t>(std::stoul(words[3])),
                       static_cast<uint32_t>(std::stoul(words[4])), words[5],
                       static_cast<uint16_t>(std::stoul(words[6]))};
        media_at(&plan, std::stoul(words[1])).candidates.push_back(c);
      } else {
        err = "unknown directive";
      }
    } catch (const std::exception&) {
      err = "bad number";
    }
    if (err) return common::Error{n, "plan line " + std::to_string(n) + ": " + *err};
  }
  return plan;
}

}  // namespace strowger::rtprelay::sdp
