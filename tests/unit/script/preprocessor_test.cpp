// Preprocessor tests: defines, #!ifdef nesting, #!subst chains, includes and their errors.
#include "proxy/script/preprocessor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace strowger::proxy::script {
namespace {

using test::memory_files;

struct Pp {
  std::vector<Token> tokens;
  std::vector<Diagnostic> diags;
  SourceMap sources;
  std::string errors() const {
    std::string out;
    for (const auto& d : diags) out += format_diagnostic(d, sources) + "\n";
    return out;
  }
  // Token texts joined by blanks (strings quoted), without the final end token.
  std::string text() const {
    std::string out;
    for (const auto& t : tokens) {
      if (t.kind == TokenKind::kEnd) break;
      if (!out.empty()) out += ' ';
      out += t.kind == TokenKind::kString ? "\"" + t.text + "\"" : t.text;
    }
    return out;
  }
};

Pp run(std::string_view text, PreprocessOptions options = {}) {
  Pp out;
  Diagnostics diags;
  Preprocessor pp(out.sources, diags, std::move(options));
  out.tokens = pp.run_text(text, "main.cfg");
  out.diags = diags.take();
  return out;
}

TEST(Preprocessor, IfdefElseEndif) {
  auto p =
      run("#!define A\n#!ifdef A\na\n#!else\nnot_a\n#!endif\n#!ifndef "
          "A\nnot_a2\n#!else\na2\n#!endif\n");
  EXPECT_EQ(p.text(), "a a2") << p.errors();
  EXPECT_TRUE(p.diags.empty());
}

TEST(Preprocessor, NestedIfdefs) {
  const char* text =
      "#!ifdef A\n"
      "  a\n"
      "  #!ifdef B\n    ab\n  #!else\n    a_not_b\n  #!endif\n"
      "#!else\n"
      "  not_a\n"
      "  #!ifdef B\n    not_a_b\n  #!else\n    not_a_not_b\n  #!endif\n"
      "#!endif\n";
  auto none = run(text);
  EXPECT_EQ(none.text(), "not_a not_a_not_b") << none.errors();
  PreprocessOptions a;
  a.defines = {{"A", ""}};
  EXPECT_EQ(run(text, a).text(), "a a_not_b");
  PreprocessOptions ab;
  ab.defines = {{"A", ""}, {"B", ""}};
  EXPECT_EQ(run(text, ab).text(), "a ab");
  PreprocessOptions b;
  b.defines = {{"B", ""}};
  EXPECT_EQ(run(text, b).text(), "not_a not_a_b");
}

TEST(Preprocessor, InactiveBranchIsNotLexed) {
  auto p = run("#!ifdef NOPE\n\"unterminated ` $( #!define X 1\n#!endif\nok\n");
  EXPECT_EQ(p.text(), "ok");
  EXPECT_TRUE(p.diags.empty()) << p.errors();
}

TEST(Preprocessor, DefinesReplaceIdentifiersNotStrings) {
  auto p =
      run("#!define FLAG 5\n#!define NAME \"x\"\nsetflag(FLAG) \"FLAG\" NAME $var(FLAG) FLAGS\n");
  EXPECT_EQ(p.text(), "setflag ( 5 ) \"FLAG\" \"x\" $var(FLAG) FLAGS") << p.errors();
  EXPECT_EQ(p.tokens[2].kind, TokenKind::kInt);
  EXPECT_EQ(p.tokens[2].loc.line, 3u);  // the position of the use, not of the #!define
  EXPECT_EQ(p.tokens[2].loc.col, 9u);
}

TEST(Preprocessor, DefineWithoutValueStaysAnIdentifier) {
  auto p = run("#!define WITH_X\nWITH_X\n");
  EXPECT_EQ(p.text(), "WITH_X");
}

TEST(Preprocessor, DefineValueSpansContinuationLines) {
  auto p = run("#!define URL \"sip:\" \\\n + \"a\"\n$x = URL;\n");
  EXPECT_EQ(p.text(), "$x = \"sip:\" + \"a\" ;") << p.errors();
}

TEST(Preprocessor, DefinesExpandRecursively) {
  auto p = run("#!define A B + 1\n#!define B C\n#!define C 3\nA\n");
  EXPECT_EQ(p.text(), "3 + 1") << p.errors();
}

TEST(Preprocessor, RecursiveDefineIsAnErrorNotAHang) {
  auto p = run("#!define A B\n#!define B A\nA\n");
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_EQ(p.errors(), "main.cfg:3:1: recursive expansion of define 'A'\n");
}

TEST(Preprocessor, ExponentialExpansionHitsTheTokenLimit) {
  std::string text;
  for (int i = 0; i < 30; ++i) {
    text += "#!define D" + std::to_string(i) + " D" + std::to_string(i + 1) + " D" +
            std::to_string(i + 1) + "\n";
  }
  text += "#!define D30 x\nD0\n";
  PreprocessOptions options;
  options.max_tokens = 10000;
  auto p = run(text, options);
  ASSERT_FALSE(p.diags.empty());
  EXPECT_NE(p.errors().find("script too large"), std::string::npos);
  EXPECT_LE(p.tokens.size(), 10001u);
}

TEST(Preprocessor, TrydefRedefineAndRedefinition) {
  auto p = run("#!define A 1\n#!trydef A 2\n#!trydef B 3\nA B\n#!redefine A 4\nA\n#!define A 5\n");
  EXPECT_EQ(p.text(), "1 3 4");
  EXPECT_EQ(p.errors(),
            "main.cfg:7:10: 'A' is already defined (at main.cfg:5:12); use #!redefine or "
            "#!trydef\n");
}

TEST(Preprocessor, CommandLineDefines) {
  PreprocessOptions options;
  options.defines = {{"WITH_NAT", ""}, {"DBURL", "\"mysql://x\""}, {"bad-name", ""}};
  auto p = run("#!ifdef WITH_NAT\nnat\n#!endif\nDBURL\n#!define WITH_NAT\n", options);
  EXPECT_EQ(p.text(), "nat \"mysql://x\"");
  ASSERT_EQ(p.diags.size(), 2u) << p.errors();
  EXPECT_EQ(format_diagnostic(p.diags[0], p.sources),
            "<command line>: invalid define name 'bad-name' (letters, digits and '_' only)");
  EXPECT_NE(p.errors().find("main.cfg:5:10: 'WITH_NAT' is already defined (at <command line>)"),
            std::string::npos);
}

TEST(Preprocessor, StrowgerIsPredefined) {
  EXPECT_EQ(run("#!ifdef STROWGER\nyes_strowger\n#!endif\n").text(), "yes_strowger");
}

TEST(Preprocessor, SubstAppliesToLaterStringsOnly) {
  // (A string on the line after the rule would be joined to it, as in Kamailio.)
  auto p = run("\"foo\"\n#!subst \"/foo/bar/g\"\nx \"foo foo\" foo $var(foo)\n");
  EXPECT_EQ(p.text(), "\"foo\" x \"bar bar\" foo $var(bar)") << p.errors();
}

TEST(Preprocessor, SubstRulesChainInOrder) {
  auto p = run("#!subst \"/a/b/\"\n#!subst \"!b!c!g\"\nx \"aab\"\n");
  // rule 1 (first match only): "bab"; rule 2 (global): "cac"
  EXPECT_EQ(p.text(), "x \"cac\"") << p.errors();
}

TEST(Preprocessor, SubstFlagsAndGroups) {
  auto p = run("#!subst \"/(A+)(b)/[\\2\\1]/i\"\nx \"xaaBy\"\n");
  EXPECT_EQ(p.text(), "x \"x[Baa]y\"") << p.errors();
}

TEST(Preprocessor, SubstdefDefinesAndChainsLikeTheWebRtcConfig) {
  auto p =
      run("#!substdef \"!MY_IP!10.0.0.5!g\"\n"
          "#!substdef \"!MY_WS_PORT!8080!g\"\n"
          "#!substdef \"!MY_WS_ADDR!tcp:MY_IP:MY_WS_PORT!g\"\n"
          "listen=MY_WS_ADDR\n"
          "\"sip:MY_IP\" MY_WS_PORT\n");
  EXPECT_EQ(p.text(), "listen = tcp : 10 . 0 . 0 . 5 : 8080 \"sip:10.0.0.5\" 8080") << p.errors();
}

TEST(Preprocessor, SubstdefsQuotesTheValue) {
  auto p = run("#!substdefs \"/NAME/proxy one/\"\nNAME\n");
  EXPECT_EQ(p.text(), "\"proxy one\"") << p.errors();
}

TEST(Preprocessor, BadSubstIsReported) {
  auto p = run("#!subst \"/a(/b/\"\n#!subst \"/a/b/x\"\n#!subst \"/a/b\"\n#!subst 12\n");
  ASSERT_EQ(p.diags.size(), 4u) << p.errors();
  EXPECT_NE(p.diags[0].message.find("bad regular expression"), std::string::npos);
  EXPECT_NE(p.diags[1].message.find("unknown substitution flag 'x'"), std::string::npos);
  EXPECT_NE(p.diags[2].message.find("missing '/' after the replacement"), std::string::npos);
  EXPECT_NE(p.diags[3].message.find("expected a string"), std::string::npos);
}

TEST(Preprocessor, SubstEmptyMatchIsAnError) {
  auto p = run("#!subst \"/x*/y/\"\nx \"abc\"\n");
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_NE(p.diags[0].message.find("matched an empty string"), std::string::npos);
  EXPECT_EQ(p.text(), "x \"abc\"");
}

TEST(Preprocessor, ConditionalErrors) {
  auto p = run("#!endif\n#!else\n#!ifdef A\n#!else\n#!else\n");
  EXPECT_EQ(p.errors(),
            "main.cfg:1:1: #!endif without #!ifdef\n"
            "main.cfg:2:1: #!else without #!ifdef\n"
            "main.cfg:5:1: second #!else for the #!ifdef at main.cfg:3:1\n"
            "main.cfg:6:1: unterminated #!ifdef (opened at main.cfg:3:1)\n");
}

TEST(Preprocessor, IncludeRelativeToTheIncludingFile) {
  PreprocessOptions options;
  options.read_file = memory_files({
      {"/etc/k/main.cfg", "a\ninclude_file \"sub/one.cfg\"\nd\n"},
      {"/etc/k/sub/one.cfg", "b\n#!include_file \"two.cfg\"\n"},
      {"/etc/k/sub/two.cfg", "\n  c\n"},
  });
  Pp out;
  Diagnostics diags;
  Preprocessor pp(out.sources, diags, options);
  out.tokens = pp.run_file("/etc/k/main.cfg");
  out.diags = diags.take();
  EXPECT_EQ(out.text(), "a b c d") << out.errors();
  ASSERT_GE(out.tokens.size(), 4u);
  EXPECT_EQ(out.sources.format(out.tokens[2].loc), "/etc/k/sub/two.cfg:2:3");
  EXPECT_EQ(out.sources.format(out.tokens[3].loc), "/etc/k/main.cfg:3:1");
}

TEST(Preprocessor, MissingIncludeIsAnErrorButImportIsNot) {
  PreprocessOptions options;
  options.read_file = memory_files(
      {{"/k/main.cfg", "import_file \"local.cfg\"\n  include_file \"gone.cfg\"\nx\n"}});
  Pp out;
  Diagnostics diags;
  Preprocessor pp(out.sources, diags, options);
  out.tokens = pp.run_file("/k/main.cfg");
  out.diags = diags.take();
  EXPECT_EQ(out.text(), "x");
  EXPECT_EQ(out.errors(),
            "/k/main.cfg:2:16: cannot open included file 'gone.cfg' (tried /k/gone.cfg, "
            "gone.cfg)\n");
}

TEST(Preprocessor, IncludeCycleIsDetected) {
  PreprocessOptions options;
  options.read_file = memory_files({
      {"/k/a.cfg", "a\ninclude_file \"b.cfg\"\n"},
      {"/k/b.cfg", "b\ninclude_file \"a.cfg\"\n"},
  });
  Pp out;
  Diagnostics diags;
  Preprocessor pp(out.sources, diags, options);
  out.tokens = pp.run_file("/k/a.cfg");
  out.diags = diags.take();
  EXPECT_EQ(out.text(), "a b");
  EXPECT_EQ(out.errors(),
            "/k/b.cfg:2:14: include cycle: 'a.cfg' is already being read (/k/a.cfg includes it, "
            "directly or not)\n");
}

TEST(Preprocessor, SelfIncludeIsACycle) {
  PreprocessOptions options;
  options.read_file = memory_files({{"/k/a.cfg", "include_file \"a.cfg\"\n"}});
  Pp out;
  Diagnostics diags;
  Preprocessor pp(out.sources, diags, options);
  pp.run_file("/k/a.cfg");
  ASSERT_EQ(diags.error_count(), 1u);
}

TEST(Preprocessor, IfdefMustCloseInItsOwnFile) {
  PreprocessOptions options;
  options.read_file = memory_files({
      {"/k/a.cfg", "#!ifdef X\n#!else\ninclude_file \"b.cfg\"\n#!endif\n"},
      {"/k/b.cfg", "#!ifndef Y\nb\n"},
  });
  Pp out;
  Diagnostics diags;
  Preprocessor pp(out.sources, diags, options);
  out.tokens = pp.run_file("/k/a.cfg");
  out.diags = diags.take();
  EXPECT_EQ(out.text(), "b");
  EXPECT_EQ(out.errors(), "/k/b.cfg:3:1: unterminated #!ifdef (opened at /k/b.cfg:1:1)\n");
}

TEST(Preprocessor, IncludesFromDisk) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "strowger_pp_include";
  fs::create_directories(dir / "routes");
  std::ofstream(dir / "main.cfg") << "#!define X 1\ninclude_file \"routes/r.cfg\"\n";
  std::ofstream(dir / "routes" / "r.cfg") << "X\n#!ifdef X\nyes\n#!endif\n";
  Pp out;
  Diagnostics diags;
  Preprocessor pp(out.sources, diags, {});
  out.tokens = pp.run_file((dir / "main.cfg").string());
  out.diags = diags.take();
  EXPECT_EQ(out.text(), "1 yes") << out.errors();
  fs::remove_all(dir);
}

TEST(Preprocessor, UnreadableMainFile) {
  Pp out;
  Diagnostics diags;
  Preprocessor pp(out.sources, diags, {});
  out.tokens = pp.run_file("/nonexistent/strowger/x.cfg");
  out.diags = diags.take();
  EXPECT_EQ(out.errors(), "/nonexistent/strowger/x.cfg: cannot read the script file\n");
  ASSERT_EQ(out.tokens.size(), 1u);
  EXPECT_EQ(out.tokens[0].kind, TokenKind::kEnd);
}

TEST(Preprocessor, IncludeDepthIsLimited) {
  PreprocessOptions options;
  options.max_include_depth = 3;
  std::map<std::string, std::string> files;
  for (int i = 0; i < 10; ++i) {
    files["/k/" + std::to_string(i) + ".cfg"] =
        "include_file \"" + std::to_string(i + 1) + ".cfg\"\n";
  }
  options.read_file = memory_files(files);
  Diagnostics diags;
  SourceMap sources;
  Preprocessor pp(sources, diags, options);
  pp.run_file("/k/0.cfg");
  ASSERT_GE(diags.list().size(), 1u);
  EXPECT_NE(diags.list()[0].message.find("nested deeper than 3 files"), std::string::npos);
}

}  // namespace
}  // namespace strowger::proxy::script
