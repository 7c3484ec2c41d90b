// Parser: recursive descent over preprocessed tokens into the Script AST (internal header).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "proxy/script/ast.h"
#include "proxy/script/diagnostics.h"
#include "proxy/script/token.h"

namespace strowger::proxy::script {

// Follows Kamailio's cfg.y: ';' after calls, assignments and return/exit/drop/break, none after
// if/switch/while; operator precedence as declared there. Errors are reported at the place they
// are noticed and parsing resumes at the next statement or top-level item.
class Parser {
 public:
  Parser(std::vector<Token> tokens, Diagnostics& diags, const SourceMap& sources, int max_nesting);
  void parse(Script* script);

 private:
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* p);
    ~DepthGuard() { --p_->depth_; }
    explicit operator bool() const { return ok_; }

   private:
    Parser* p_;
    bool ok_;
  };

  // tokens
  const Token& peek(std::size_t k = 0) const;
  const Token& prev() const { return pos_ > 0 ? tokens_[pos_ - 1] : tokens_[0]; }
  const Token& advance();
  bool at(TokenKind k) const { return peek().kind == k; }
  bool at_word(std::string_view w, std::size_t k = 0) const;
  bool accept(TokenKind k);
  bool stop() const;
  void error(SourceLoc loc, std::string message);
  std::string where(SourceLoc loc) const { return sources_.format(loc); }
  bool top_level_start() const;  // a token that can only begin a top-level item

  // top level (parser_toplevel.cpp)
  void top_item(Script* script);
  void route_block(Script* script);
  bool route_name(const Token& keyword, std::string* name, SourceLoc* name_loc);
  void global_param(Script* script);
  bool global_item(GlobalValue* value);
  bool global_atom(std::string* text, GlobalValue::Kind* kind, std::int64_t* int_value);
  void modparam(Script* script);
  void loadmodule(Script* script);
  void loadpath(Script* script);
  void flags_decl(Script* script);
  void cfgengine(Script* script);
  void sync_top();

  // statements (parser.cpp)
  std::vector<StmtPtr> block_body(const Token& open);
  std::vector<StmtPtr> body_statement();
  StmtPtr statement();
  StmtPtr if_stmt();
  StmtPtr switch_stmt();
  std::vector<StmtPtr> case_body();
  StmtPtr while_stmt();
  StmtPtr exit_like(StmtKind kind);
  StmtPtr assignment();
  StmtPtr call_stmt();
  bool expect_semicolon(const char* after);
  void sync_statement();

  // expressions (parser_expr.cpp)
  ExprPtr expression();
  ExprPtr binary(int min_prec);
  ExprPtr unary();
  ExprPtr primary();
  ExprPtr call(const Token& name);
  ExprPtr ip_literal();
  ExprPtr select();
  ExprPtr host_or_ident();
  ExprPtr field_comparison(Field field, SourceLoc loc);
  ExprPtr myself_comparison();
  ExprPtr socket_literal();
  bool socket_literal_ahead() const;
  std::size_t skip_host_ahead(std::size_t k) const;
  bool binary_op(BinaryOp* op, int* prec, int* width) const;
  bool can_start_expression(const Token& t) const;
  std::unique_ptr<PvRef> pv_from_token(const Token& t);
  void skip_to_close_paren();

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  Diagnostics& diags_;
  const SourceMap& sources_;
  int max_nesting_;
  int depth_ = 0;
  // Where Kamailio's grammar allows bare names, IP literals and myself: only right after some
  // message keywords and in the arguments of a few core commands. Read by the next primary().
  enum class Allow : std::uint8_t { kNone, kName, kHost, kMyself, kArgument };
  Allow allow_ = Allow::kNone;
  bool fatal_ = false;   // nesting limit hit: stop everything
  bool unwind_ = false;  // a top-level keyword inside a block: close all blocks
  std::map<std::pair<int, std::string>, SourceLoc> routes_seen_;
};

bool is_statement_keyword(std::string_view word);
// The message keyword `w` (method, uri, src_ip, proto, ...), if it is one.
bool field_word(std::string_view w, Field* f);

inline ExprPtr make_expr(ExprKind kind, SourceLoc loc) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->loc = loc;
  return e;
}

}  // namespace strowger::proxy::script
