// AST helpers: lookups on Script and S-expression dumps of expressions and statements.
#include "proxy/script/ast.h"

namespace strowger::proxy::script {
namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string block(const std::vector<StmtPtr>& body) {
  std::string out = "(block";
  for (const auto& s : body) out += " " + to_string(*s);
  return out + ")";
}

}  // namespace

const char* route_kind_keyword(RouteKind kind) {
  switch (kind) {
    case RouteKind::kRequest:
      return "request_route";
    case RouteKind::kRoute:
      return "route";
    case RouteKind::kReply:
      return "reply_route";
    case RouteKind::kOnReply:
      return "onreply_route";
    case RouteKind::kFailure:
      return "failure_route";
    case RouteKind::kBranch:
      return "branch_route";
    case RouteKind::kOnSend:
      return "onsend_route";
    case RouteKind::kEvent:
      return "event_route";
  }
  return "route";
}

const Route* Script::find_route(RouteKind kind, std::string_view name) const {
  for (const auto& r : routes) {
    if (r.kind == kind && r.name == name) return &r;
  }
  return nullptr;
}

const GlobalParam* Script::find_global(std::string_view name) const {
  const GlobalParam* found = nullptr;
  for (const auto& g : globals) {
    if (g.name == name) found = &g;
  }
  return found;
}

std::string to_string(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return "||";
    case BinaryOp::kAnd:
      return "&&";
    case BinaryOp::kBitOr:
      return "|";
    case BinaryOp::kBitAnd:
      return "&";
    case BinaryOp::kBitXor:
      return "^";
    case BinaryOp::kShl:
      return "<<";
    case BinaryOp::kShr:
      return ">>";
    case BinaryOp::kEq:
      return "==";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kMatch:
      return "=~";
    case BinaryOp::kNotMatch:
      return "!~";
    case BinaryOp::kIntEq:
      return "ieq";
    case BinaryOp::kIntNe:
      return "ine";
    case BinaryOp::kStrEq:
      return "eq";
    case BinaryOp::kStrNe:
      return "ne";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
  }
  return "?";
}

std::string to_string(UnaryOp op) {
  switch (op) {
    case UnaryOp::kNot:
      return "!";
    case UnaryOp::kBitNot:
      return "~";
    case UnaryOp::kNeg:
      return "neg";
    case UnaryOp::kDefined:
      return "defined";
    case UnaryOp::kStrLen:
      return "strlen";
    case UnaryOp::kStrEmpty:
      return "strempty";
    case UnaryOp::kIntCast:
      return "(int)";
    case UnaryOp::kStrCast:
      return "(str)";
  }
  return "?";
}

std::string to_string(Field field) {
  switch (field) {
    case Field::kMethod:
      return "method";
    case Field::kUri:
      return "uri";
    case Field::kStatus:
      return "status";
    case Field::kFromUri:
      return "from_uri";
    case Field::kToUri:
      return "to_uri";
    case Field::kSrcIp:
      return "src_ip";
    case Field::kSrcPort:
      return "src_port";
    case Field::kDstIp:
      return "dst_ip";
    case Field::kDstPort:
      return "dst_port";
    case Field::kSndIp:
      return "snd_ip";
    case Field::kSndPort:
      return "snd_port";
    case Field::kSndProto:
      return "snd_proto";
    case Field::kSndAf:
      return "snd_af";
    case Field::kToIp:
      return "to_ip";
    case Field::kToPort:
      return "to_port";
    case Field::kProto:
      return "proto";
    case Field::kAf:
      return "af";
    case Field::kMsgLen:
      return "msg:len";
  }
  return "?";
}

std::string to_string(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kInt:
      return std::to_string(e.int_value);
    case ExprKind::kString:
      return quote(e.text);
    case ExprKind::kPv:
      return e.pv ? pv_to_string(*e.pv) : "$?";
    case ExprKind::kSelect:
      return e.text;
    case ExprKind::kIdent:
      return "(ident " + e.text + ")";
    case ExprKind::kIp: {
      std::string out = "(ip " + e.text;
      if (e.ip_prefix >= 0) out += "/" + std::to_string(e.ip_prefix);
      if (!e.ip_mask.empty()) out += "/" + e.ip_mask;
      return out + ")";
    }
    case ExprKind::kField:
      return "(field " + to_string(e.field) + ")";
    case ExprKind::kMyself:
      return "myself";
    case ExprKind::kCall: {
      std::string out = "(call " + e.text;
      for (const auto& a : e.args) out += " " + to_string(*a);
      return out + ")";
    }
    case ExprKind::kUnary:
      return "(" + to_string(e.unary_op) + " " + (e.lhs ? to_string(*e.lhs) : "?") + ")";
    case ExprKind::kBinary:
      return "(" + to_string(e.binary_op) + " " + (e.lhs ? to_string(*e.lhs) : "?") + " " +
             (e.rhs ? to_string(*e.rhs) : "?") + ")";
  }
  return "?";
}

std::string to_string(const Stmt& s) {
  auto opt = [&](const char* word) {
    return s.expr ? "(" + std::string(word) + " " + to_string(*s.expr) + ")"
                  : "(" + std::string(word) + ")";
  };
  switch (s.kind) {
    case StmtKind::kExpr:
      return s.expr ? to_string(*s.expr) : "?";
    case StmtKind::kAssign:
      return std::string("(") + (s.assign_op == AssignOp::kAdd ? "+=" : "=") + " " +
             (s.target ? pv_to_string(*s.target) : "?") + " " +
             (s.expr ? to_string(*s.expr) : "?") + ")";
    case StmtKind::kIf: {
      std::string out = "(if " + (s.expr ? to_string(*s.expr) : "?") + " " + block(s.body);
      if (s.has_else) out += " " + block(s.else_body);
      return out + ")";
    }
    case StmtKind::kSwitch: {
      std::string out = "(switch " + (s.expr ? to_string(*s.expr) : "?");
      for (const auto& c : s.cases) {
        out += c.is_default ? " (default" : c.is_regex ? " (case/ " : " (case ";
        if (!c.is_default) out += c.label ? to_string(*c.label) : "?";
        for (const auto& st : c.body) out += " " + to_string(*st);
        out += ")";
      }
      return out + ")";
    }
    case StmtKind::kWhile:
      return "(while " + (s.expr ? to_string(*s.expr) : "?") + " " + block(s.body) + ")";
    case StmtKind::kReturn:
      return opt("return");
    case StmtKind::kExit:
      return opt("exit");
    case StmtKind::kDrop:
      return opt("drop");
    case StmtKind::kBreak:
      return "(break)";
    case StmtKind::kBlock:
      return block(s.body);
  }
  return "?";
}

}  // namespace strowger::proxy::script
