// AST of a routing script: global settings, modules, modparams and route blocks of statements.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/script/pv.h"
#include "proxy/script/source.h"

namespace strowger::proxy::script {

// ---- expressions -------------------------------------------------------------------------

enum class ExprKind : std::uint8_t {
  kInt,     // int_value (also yes/no/on/off/true/false and inet/inet6, as Kamailio)
  kString,  // text: the value (escapes resolved); may be a format string for the function
  kPv,      // pv
  kSelect,  // text: "@via[1].branch" as written (Kamailio selects)
  kIdent,   // text: a bare name the compiler resolves by context: route name in route(X),
            // protocol (udp, tcp, tls, sctp, ws, wss), host name ("sip.example.com"), flag
            // name, or a core socket form in call arguments ("udp:10.0.0.1:5060", "uri:host")
  kIp,      // text: address; ip_prefix >= 0 for "/24", ip_mask for "/255.255.255.0"
  kField,   // field: a message keyword (method, uri, src_ip, proto, ...); only ever the lhs
            // of a comparison kBinary, or its rhs when the lhs is kMyself (myself == uri)
  kMyself,  // the keyword myself
  kCall,    // text: function name; args
  kUnary,   // unary_op applied to lhs
  kBinary,  // binary_op applied to lhs, rhs
};

enum class UnaryOp : std::uint8_t {
  kNot,       // !  not
  kBitNot,    // ~
  kNeg,       // -
  kDefined,   // defined $x
  kStrLen,    // strlen(x)
  kStrEmpty,  // strempty(x)
  kIntCast,   // (int)
  kStrCast,   // (str)
};

// Listed from the loosest to the tightest binding, as Kamailio's grammar declares them.
enum class BinaryOp : std::uint8_t {
  kOr,        // || or
  kAnd,       // && and
  kBitOr,     // |
  kBitAnd,    // &
  kBitXor,    // ^
  kShl,       // <<
  kShr,       // >>
  kEq,        // ==
  kNe,        // !=
  kMatch,     // =~ (POSIX extended regex)
  kNotMatch,  // !~ (Strowger extension: the negation of =~)
  kIntEq,     // ieq
  kIntNe,     // ine
  kStrEq,     // eq
  kStrNe,     // ne
  kLt,
  kGt,
  kLe,
  kGe,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,  // mod, %
};

enum class Field : std::uint8_t {
  kMethod,
  kUri,     // request URI
  kStatus,  // reply status (the same token as uri in Kamailio; kept apart for the compiler)
  kFromUri,
  kToUri,
  kSrcIp,
  kSrcPort,
  kDstIp,
  kDstPort,
  kSndIp,  // onsend_route only
  kSndPort,
  kSndProto,  // snd_proto, to_proto
  kSndAf,     // snd_af, to_af
  kToIp,
  kToPort,
  kProto,
  kAf,
  kMsgLen,  // msg:len
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::kInt;
  SourceLoc loc;
  std::int64_t int_value = 0;
  std::string text;
  int ip_prefix = -1;
  std::string ip_mask;
  Field field = Field::kMethod;
  UnaryOp unary_op = UnaryOp::kNot;
  BinaryOp binary_op = BinaryOp::kEq;
  std::unique_ptr<PvRef> pv;
  ExprPtr lhs;
  ExprPtr rhs;
  std::vector<ExprPtr> args;
};

// ---- statements --------------------------------------------------------------------------

enum class StmtKind : std::uint8_t {
  kExpr,    // expr: a function call (or route(X)) used as a statement
  kAssign,  // target (assign_op) expr
  kIf,      // expr: condition; body: then; else_body when has_else
  kSwitch,  // expr: subject; cases
  kWhile,   // expr: condition; body
  kReturn,  // expr: optional value
  kExit,    // expr: optional value
  kDrop,    // expr: optional value
  kBreak,
  kBlock,  // body
};

enum class AssignOp : std::uint8_t {
  kSet,  // =
  kAdd,  // += (Strowger extension)
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct SwitchCase {
  SourceLoc loc;
  bool is_default = false;
  bool is_regex = false;  // case /"regex": as Kamailio's CASE SLASH
  ExprPtr label;          // constant expression (int or string); null for default
  std::vector<StmtPtr> body;
};

struct Stmt {
  StmtKind kind = StmtKind::kBlock;
  SourceLoc loc;
  ExprPtr expr;
  std::unique_ptr<PvRef> target;
  AssignOp assign_op = AssignOp::kSet;
  std::vector<StmtPtr> body;
  bool has_else = false;
  std::vector<StmtPtr> else_body;
  std::vector<SwitchCase> cases;
};

// ---- top level ---------------------------------------------------------------------------

enum class RouteKind : std::uint8_t {
  kRequest,  // request_route {} / route {}: the main request route (name empty)
  kRoute,    // route[NAME] {}: a sub-route called with route(NAME)
  kReply,    // reply_route {} / onreply_route {} / onreply_route[0] {}: core reply route
  kOnReply,  // onreply_route[NAME] {}: transaction reply route set with t_on_reply
  kFailure,  // failure_route[NAME] {} (failure_route {} has an empty name)
  kBranch,   // branch_route[NAME] {}
  kOnSend,   // onsend_route {} / onsend_route[NAME] {}
  kEvent,    // event_route[module:event] {}
};
const char* route_kind_keyword(RouteKind kind);  // "request_route", "route", ...

struct Route {
  RouteKind kind = RouteKind::kRequest;
  std::string name;
  SourceLoc loc;       // of the keyword
  SourceLoc name_loc;  // of the name (== loc without a name)
  std::vector<StmtPtr> body;
};

struct GlobalValue {
  enum class Kind : std::uint8_t {
    kInt,       // debug=3, port=5060, enable_tls=yes (1), debug=-1
    kString,    // alias="example.com"
    kIdent,     // log_facility=LOG_LOCAL0
    kComposite  // text as written without blanks: "udp:127.0.0.1:5060", "10.0.0.1", "*:5060"
  };
  Kind kind = Kind::kInt;
  SourceLoc loc;
  std::int64_t int_value = 0;
  std::string text;
};

// name=value lines, Kamailio's core settings and cfg variables ("pstn.gw_ip = "" desc "x"").
struct GlobalParam {
  std::string name;  // "listen", "children", "pstn.gw_ip", "grp[1].var"
  SourceLoc loc;
  std::vector<GlobalValue> values;  // one, or several for listen/alias lists
  bool has_advertise = false;
  GlobalValue advertise;    // listen=... advertise 1.2.3.4:5060
  std::string socket_name;  // listen=... name "s1"
  bool is_virtual = false;  // listen=... virtual
  std::string description;  // cfg variables: desc "..."
};

struct LoadModule {
  std::string path;  // as written: "tm.so", "/usr/lib/x/tm.so", "tm"
  SourceLoc loc;
};

struct LoadPath {
  std::string path;
  SourceLoc loc;
};

struct ModParam {
  std::string module;  // may be a regex of modules: "nathelper|registrar"
  std::string param;
  bool is_int = false;
  std::int64_t int_value = 0;
  std::string str_value;
  bool evaluate = false;  // modparamx: the value holds pseudo-variables to evaluate
  SourceLoc loc;
  SourceLoc value_loc;
};

struct FlagDecl {
  std::string name;
  int bit = -1;  // -1: any free flag
  bool avp_flag = false;
  SourceLoc loc;
};

struct Script {
  std::vector<GlobalParam> globals;
  std::vector<LoadPath> load_paths;
  std::vector<LoadModule> modules;
  std::vector<ModParam> modparams;
  std::vector<FlagDecl> flags;
  std::vector<Route> routes;  // in source order

  // The route of that kind and name, or null.
  const Route* find_route(RouteKind kind, std::string_view name = {}) const;
  const GlobalParam* find_global(std::string_view name) const;  // the last one set
};

// ---- dumping (tests, traces) -------------------------------------------------------------

std::string to_string(const Expr& e);  // S-expression: (== (field uri) myself)
std::string to_string(const Stmt& s);  // (if cond (block ...) (block ...))
std::string to_string(BinaryOp op);
std::string to_string(UnaryOp op);
std::string to_string(Field field);

}  // namespace strowger::proxy::script
