// Parser entry points, token helpers and statements (if/switch/while/return/assign/calls).
#include "proxy/script/parser.h"

#include "proxy/script/parser_impl.h"

namespace strowger::proxy::script {
namespace {

ParseResult run(std::vector<Token> tokens, Diagnostics& diags, std::shared_ptr<SourceMap> sources,
                const ParseOptions& options) {
  ParseResult result;
  if (!diags.full()) {
    Parser parser(std::move(tokens), diags, *sources, options.max_nesting);
    parser.parse(&result.script);
  }
  result.error_count = diags.error_count() + (diags.full() ? 1 : 0);
  result.diagnostics = diags.take();
  result.sources = std::move(sources);
  return result;
}

PreprocessOptions pp_options(const ParseOptions& options) {
  PreprocessOptions pp;
  pp.defines = options.defines;
  pp.read_file = options.read_file;
  pp.max_tokens = options.max_tokens;
  return pp;
}

}  // namespace

bool is_statement_keyword(std::string_view w) {
  return w == "if" || w == "else" || w == "switch" || w == "case" || w == "default" ||
         w == "while" || w == "return" || w == "exit" || w == "drop" || w == "break";
}

std::string ParseResult::format_diagnostics() const {
  std::string out;
  for (const auto& d : diagnostics) out += format_diagnostic(d, *sources) + "\n";
  return out;
}

ParseResult parse_script(const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& defines) {
  ParseOptions options;
  options.defines = defines;
  return parse_script_file(path, options);
}

ParseResult parse_script_file(const std::string& path, const ParseOptions& options) {
  auto sources = std::make_shared<SourceMap>();
  Diagnostics diags(options.max_errors);
  Preprocessor pp(*sources, diags, pp_options(options));
  auto tokens = pp.run_file(path);
  return run(std::move(tokens), diags, std::move(sources), options);
}

ParseResult parse_script_text(std::string_view text, const std::string& name,
                              const ParseOptions& options) {
  auto sources = std::make_shared<SourceMap>();
  Diagnostics diags(options.max_errors);
  Preprocessor pp(*sources, diags, pp_options(options));
  auto tokens = pp.run_text(text, name);
  return run(std::move(tokens), diags, std::move(sources), options);
}

// ---- token helpers -------------------------------------------------------------------------

Parser::Parser(std::vector<Token> tokens, Diagnostics& diags, const SourceMap& sources,
               int max_nesting)
    : tokens_(std::move(tokens)), diags_(diags), sources_(sources), max_nesting_(max_nesting) {
  if (tokens_.empty() || tokens_.back().kind != TokenKind::kEnd) tokens_.emplace_back();
}

Parser::DepthGuard::DepthGuard(Parser* p) : p_(p), ok_(true) {
  if (++p_->depth_ > p_->max_nesting_) {
    ok_ = false;
    if (!p_->fatal_) {
      p_->error(p_->peek().loc,
                "nesting too deep (more than " + std::to_string(p_->max_nesting_) + " levels)");
      p_->fatal_ = true;
    }
  }
  if (p_->fatal_) ok_ = false;
}

const Token& Parser::peek(std::size_t k) const {
  std::size_t i = pos_ + k;
  return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

const Token& Parser::advance() {
  const Token& t = peek();
  if (pos_ < tokens_.size() - 1) ++pos_;
  return t;
}

bool Parser::at_word(std::string_view w, std::size_t k) const {
  const Token& t = peek(k);
  return t.kind == TokenKind::kIdent && t.text == w;
}

bool Parser::accept(TokenKind k) {
  if (!at(k)) return false;
  advance();
  return true;
}

bool Parser::stop() const {
  return fatal_ || diags_.full();
}

void Parser::error(SourceLoc loc, std::string message) {
  diags_.error(loc, std::move(message));
}

bool Parser::top_level_start() const {
  const Token& t = peek();
  if (t.kind != TokenKind::kIdent) return false;
  const std::string& w = t.text;
  if (w == "route")
    return peek(1).kind == TokenKind::kLBracket || peek(1).kind == TokenKind::kLBrace;
  return w == "request_route" || w == "reply_route" || w == "onreply_route" ||
         w == "failure_route" || w == "branch_route" || w == "onsend_route" || w == "event_route" ||
         w == "loadmodule" || w == "modparam" || w == "modparamx" || w == "loadpath" ||
         w == "mpath";
}

}  // namespace strowger::proxy::script
