// Tests of the canonical formatter (lang/formatter.cpp): format twice and compare, same AST
// after a round trip, every comment kept in order, exact layouts, minimal parentheses.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lang/formatter.hpp"
#include "lang/parser.hpp"

using namespace crm::lang;

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Module parse_text(const std::string& text, const std::string& name = "test.crm") {
  Diagnostics diags;
  Module m = parse(std::make_shared<SourceFile>(name, text), diags);
  INFO(render_all(diags));
  REQUIRE_FALSE(diags.has_errors());
  return m;
}

std::string fmt_text(const std::string& text) { return format_module(parse_text(text)); }

std::string fmt_without_comments(const std::string& text) {
  Module m = parse_text(text);
  m.comments.clear();
  return format_module(m);
}

std::vector<std::string> comment_texts(const Module& m) {
  std::vector<std::string> out;
  for (const auto& c : m.comments) {
    std::string s = c.text;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
    out.push_back(s);
  }
  return out;
}

bool has_trailing_space(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) return true;
  return false;
}

// The properties every formatted text has: same AST, same comments in order, idempotent,
// one final newline, no trailing spaces, no tabs in indentation.
void check_round_trip(const std::string& input, const std::string& name) {
  INFO("case: " << name);
  Module original = parse_text(input, name);
  std::string once = format_module(original);
  INFO("formatted:\n" << once);
  Module reparsed = parse_text(once, name);
  CHECK(same_module(original, reparsed));
  CHECK(comment_texts(original) == comment_texts(reparsed));
  std::string twice = format_module(reparsed);
  CHECK(twice == once);
  if (!once.empty()) {
    CHECK(once.back() == '\n');
    CHECK(once.find("\n\n\n") == std::string::npos);
    CHECK(once.substr(0, 1) != "\n");
    CHECK(once.substr(once.size() - std::min<size_t>(2, once.size())) != "\n\n");
  }
  CHECK_FALSE(has_trailing_space(once));
}

// Splits the source between tokens: every run of spaces outside strings and comments becomes a
// newline (whitespace is insignificant), so the next transformations reach every token gap.
std::string one_token_per_line(const std::string& s) {
  std::string out;
  bool in_string = false, in_comment = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_comment) {
      in_comment = c != '\n';
    } else if (in_string) {
      if (c == '\\' && i + 1 < s.size()) {
        out += c;
        c = s[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '#') {
      in_comment = true;
    } else if (c == ' ') {
      if (!out.empty() && out.back() != '\n') out += '\n';
      continue;
    }
    out += c;
  }
  return out;
}

// Adds a trailing comment to every line that has none and an own-line comment between every
// two lines: comments in every gap the source has.
std::string comment_everywhere(const std::string& s) {
  std::string out;
  std::istringstream in(s);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    out += "# own " + std::to_string(++n) + "\n";
    bool has_comment = false, in_string = false;
    for (size_t i = 0; i < line.size(); ++i) {
      if (in_string && line[i] == '\\') ++i;
      else if (line[i] == '"') in_string = !in_string;
      else if (!in_string && line[i] == '#') has_comment = true;
    }
    out += line;
    if (!has_comment && !line.empty()) out += " # trail " + std::to_string(++n);
    out += '\n';
  }
  return out;
}

std::vector<std::filesystem::path> case_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(CRM_TEST_DIR) + "/unit/fmt_cases"))
    if (e.path().extension() == ".crm") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string fmt_expr_text(const std::string& text) {
  Diagnostics diags;
  ExprPtr e = parse_expression(std::make_shared<SourceFile>("expr", text), diags);
  INFO(text << "\n" << render_all(diags));
  REQUIRE_FALSE(diags.has_errors());
  REQUIRE(e);
  return format_expr(*e);
}

ExprPtr name(std::string n) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::Name;
  e->text = std::move(n);
  return e;
}

ExprPtr bin(BinOp op, ExprPtr a, ExprPtr b) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::Binary;
  e->bop = op;
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

ExprPtr un(UnOp op, ExprPtr a) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::Unary;
  e->uop = op;
  e->args.push_back(std::move(a));
  return e;
}

}  // namespace

TEST_CASE("formatter: sample cases round-trip, are idempotent and match their expected layout") {
  auto files = case_files();
  REQUIRE(files.size() >= 5);
  for (const auto& f : files) {
    std::string input = read_text(f);
    check_round_trip(input, f.filename().string());
    auto expected = f;
    expected.replace_extension(".expected");
    if (std::filesystem::exists(expected)) {
      INFO("case: " << f.filename().string());
      CHECK(fmt_text(input) == read_text(expected));
    }
  }
}

TEST_CASE("formatter: one token per line and a comment in every gap keep AST and comments") {
  for (const auto& f : case_files()) {
    std::string input = read_text(f);
    std::string split = one_token_per_line(input);
    check_round_trip(split, f.filename().string() + " (one token per line)");
    CHECK(same_module(parse_text(input), parse_text(split)));
    std::string commented = comment_everywhere(split);
    check_round_trip(commented, f.filename().string() + " (comments everywhere)");
    check_round_trip(comment_everywhere(input), f.filename().string() + " (comments on every line)");
    // Splitting changes nothing but comments (a trailing comment may become an own-line one).
    CHECK(fmt_without_comments(split) == fmt_without_comments(input));
  }
}

TEST_CASE("formatter: parentheses are minimal and correct") {
  CHECK(fmt_expr_text("(a or b) and c") == "(a or b) and c");
  CHECK(fmt_expr_text("a or (b and c)") == "a or b and c");
  CHECK(fmt_expr_text("((((a))))") == "a");
  CHECK(fmt_expr_text("not (a and b)") == "not (a and b)");
  CHECK(fmt_expr_text("(not a) and b") == "not a and b");
  CHECK(fmt_expr_text("not (a == b)") == "not a == b");
  CHECK(fmt_expr_text("(not a) == b") == "(not a) == b");
  CHECK(fmt_expr_text("not not a") == "not not a");
  CHECK(fmt_expr_text("a - (b - c)") == "a - (b - c)");
  CHECK(fmt_expr_text("(a - b) - c") == "a - b - c");
  CHECK(fmt_expr_text("a and (b and c)") == "a and (b and c)");
  CHECK(fmt_expr_text("(a and b) and c") == "a and b and c");
  CHECK(fmt_expr_text("a * (b + c)") == "a * (b + c)");
  CHECK(fmt_expr_text("(a * b) + c") == "a * b + c");
  CHECK(fmt_expr_text("a / (b / c)") == "a / (b / c)");
  CHECK(fmt_expr_text("a % (b * c)") == "a % (b * c)");
  CHECK(fmt_expr_text("-(a + b)") == "-(a + b)");
  CHECK(fmt_expr_text("-(-a)") == "- -a");
  CHECK(fmt_expr_text("(-a) * b") == "-a * b");
  CHECK(fmt_expr_text("-(a * b)") == "-(a * b)");
  CHECK(fmt_expr_text("(a == b) == c") == "(a == b) == c");
  CHECK(fmt_expr_text("(a + b) is null") == "a + b is null");
  CHECK(fmt_expr_text("(a == b) is not null") == "(a == b) is not null");
  CHECK(fmt_expr_text("(a or b) in [true]") == "(a or b) in [true]");
  CHECK(fmt_expr_text("(a < b) and (c >= d) or (e <= f and g > h)") == "a < b and c >= d or e <= f and g > h");
  CHECK(fmt_expr_text("f( g( 1 ),[ ],[1.0,2.25] )") == "f(g(1), [], [1.0, 2.25])");
  CHECK(fmt_expr_text("today") == "today");
  CHECK(fmt_expr_text("1_000_000+0.50+007") == "1_000_000 + 0.50 + 007");
  CHECK(fmt_expr_text("\"a\\u{1F600}\\u{7}\\\"\"") == "\"a\U0001F600\\u{7}\\\"\"");
  CHECK(fmt_expr_text("2026-12-01-today") == "2026-12-01 - today");
}

TEST_CASE("formatter: expressions built by hand get the parentheses their shape needs") {
  auto e = bin(BinOp::And, bin(BinOp::Or, name("a"), name("b")), name("c"));
  CHECK(format_expr(*e) == "(a or b) and c");
  e = bin(BinOp::Or, name("a"), bin(BinOp::And, name("b"), name("c")));
  CHECK(format_expr(*e) == "a or b and c");
  e = bin(BinOp::Sub, name("a"), bin(BinOp::Sub, name("b"), name("c")));
  CHECK(format_expr(*e) == "a - (b - c)");
  e = un(UnOp::Neg, un(UnOp::Neg, name("x")));
  CHECK(format_expr(*e) == "- -x");
  e = bin(BinOp::Eq, un(UnOp::Not, name("a")), name("b"));
  CHECK(format_expr(*e) == "(not a) == b");
  // A long left-deep chain is printed without deep recursion.
  ExprPtr chain = name("x0");
  for (int i = 1; i < 200000; ++i) chain = bin(BinOp::Add, std::move(chain), name("x"));
  std::string s = format_expr(*chain);
  CHECK(s.size() == 2 + 199999 * 4);
  CHECK(s.substr(0, 10) == "x0 + x + x");
  while (chain && !chain->args.empty()) chain = std::move(chain->args[0]);  // free without deep recursion
}

TEST_CASE("formatter: strings are re-escaped canonically") {
  CHECK(quote_string("plain") == "\"plain\"");
  CHECK(quote_string("a\"b\\c\nd\te") == "\"a\\\"b\\\\c\\nd\\te\"");
  CHECK(quote_string(std::string("\x01\x7f\r", 3)) == "\"\\u{1}\\u{7F}\\u{D}\"");
  CHECK(quote_string("ご購入") == "\"ご購入\"");
}

TEST_CASE("formatter: messy spacing becomes the canonical layout") {
  std::string in =
      "import   \"std/lifecycle\"\n"
      "let  aov=total_spent/purchase_count\n"
      "segment vip=total_spent>=100_000 or(purchase_count>=10)\n"
      "message thank_you subject \"Hi {name}\"  via email\n"
      "rule check_in :when purchase_count==1 and days_since==7 then send any_concerns via line,grant coupon c10 priority 10\n"
      "when vip then send thank_you once per year( today )\n"
      "campaign   w when purchase_count>=1{holdout 10 % limit 1 email per 30 days\n"
      "rule a:when x then tag t}\n"
      "journey j on purchase{day 0:send thank_you day 7 : send thank_you,offer o unless x exit when y priority -2}\n";
  std::string want =
      "import \"std/lifecycle\"\n"
      "\n"
      "let aov = total_spent / purchase_count\n"
      "segment vip = total_spent >= 100_000 or purchase_count >= 10\n"
      "\n"
      "message thank_you via email subject \"Hi {name}\"\n"
      "\n"
      "rule check_in:\n"
      "  when purchase_count == 1 and days_since == 7\n"
      "  then send any_concerns via line, grant coupon c10\n"
      "  priority 10\n"
      "\n"
      "when vip\n"
      "  then send thank_you\n"
      "  once per year(today)\n"
      "\n"
      "campaign w when purchase_count >= 1 {\n"
      "  holdout 10%\n"
      "  limit 1 email per 30 days\n"
      "\n"
      "  rule a:\n"
      "    when x\n"
      "    then tag t\n"
      "}\n"
      "\n"
      "journey j on purchase {\n"
      "  day 0: send thank_you\n"
      "  day 7: send thank_you, offer o unless x\n"
      "  exit when y\n"
      "  priority -2\n"
      "}\n";
  CHECK(fmt_text(in) == want);
  CHECK(fmt_text(want) == want);
}

TEST_CASE("formatter: unnamed rules with an event, and every option") {
  std::string in =
      "on signup when true then send w via push, grant points 10 * 2, untag a, tag b every 14 days\n"
      "rule r: on purchase when order.total > 0 then send w once after big 3 days after other "
      "from 2026-01-01 until 2026-12-31 holdout 12.5% once per order.id\n";
  std::string want =
      "on signup when true\n"
      "  then send w via push, grant points 10 * 2, untag a, tag b\n"
      "  every 14 days\n"
      "\n"
      "rule r:\n"
      "  on purchase\n"
      "  when order.total > 0\n"
      "  then send w\n"
      "  once\n"
      "  after big 3 days\n"
      "  after other\n"
      "  from 2026-01-01\n"
      "  until 2026-12-31\n"
      "  holdout 12.5%\n"
      "  once per order.id\n";
  CHECK(fmt_text(in) == want);
}

TEST_CASE("formatter: blank lines group adjacent one-line declarations of the same kind") {
  std::string in =
      "\n\nimport \"a\"\nimport \"b\"\n\n\n\nimport \"c\"\nlet x = 1\n\n\nlet y = 2\nlet z = 3\n"
      "segment s = x\nmessage m1\nmessage m2\n\nmessage m3\nlimit 1 message per 1 days\ntimezone \"UTC\"\n"
      "rule r: when x then send m1\nrule q: when x then send m2\nlet last = 1\n\n\n";
  std::string want =
      "import \"a\"\nimport \"b\"\n\nimport \"c\"\n\nlet x = 1\n\nlet y = 2\nlet z = 3\nsegment s = x\n\n"
      "message m1\nmessage m2\n\nmessage m3\n\nlimit 1 message per 1 days\ntimezone \"UTC\"\n\n"
      "rule r:\n  when x\n  then send m1\n\nrule q:\n  when x\n  then send m2\n\nlet last = 1\n";
  CHECK(fmt_text(in) == want);
}

TEST_CASE("formatter: comments stay on their lines, in order, in every kind of block") {
  std::string in =
      "# header\n"
      "\n"
      "let a = 1  # on a\n"
      "# before b\n"
      "let b = 2\n"
      "# before rule\n"
      "rule r1:   # after name\n"
      "  # before when\n"
      "  when a > 1 and   # inside condition\n"
      "      # own line inside condition\n"
      "      b > 2\n"
      "\n"
      "  # before then\n"
      "  then send x,  # after first action\n"
      "       send y\n"
      "  # before option\n"
      "  priority 1   # after priority\n"
      "campaign c when a {  # after brace\n"
      "  # first inside\n"
      "  holdout 10%  # on holdout\n"
      "  # before inner rule\n"
      "  when b then send x  # on inner rule\n"
      "  # last inside\n"
      "}  # after close\n"
      "journey j on purchase {\n"
      "  # before day 0\n"
      "  day 0: send x  # on day 0\n"
      "\n"
      "  # before day 7\n"
      "  day 7: send y unless a\n"
      "  # before exit\n"
      "  exit when b  # on exit\n"
      "  # before priority\n"
      "  priority 2\n"
      "  # before close\n"
      "}\n"
      "# end 1\n"
      "\n"
      "# end 2\n";
  std::string want =
      "# header\n"
      "\n"
      "let a = 1  # on a\n"
      "# before b\n"
      "let b = 2\n"
      "\n"
      "# before rule\n"
      "rule r1:  # after name\n"
      "  # before when\n"
      "  when a > 1 and b > 2  # inside condition\n"
      "  # own line inside condition\n"
      "  # before then\n"
      "  then send x, send y  # after first action\n"
      "  # before option\n"
      "  priority 1  # after priority\n"
      "\n"
      "campaign c when a {  # after brace\n"
      "  # first inside\n"
      "  holdout 10%  # on holdout\n"
      "\n"
      "  # before inner rule\n"
      "  when b\n"
      "    then send x  # on inner rule\n"
      "  # last inside\n"
      "}  # after close\n"
      "\n"
      "journey j on purchase {\n"
      "  # before day 0\n"
      "  day 0: send x  # on day 0\n"
      "\n"
      "  # before day 7\n"
      "  day 7: send y unless a\n"
      "  # before exit\n"
      "  exit when b  # on exit\n"
      "  # before priority\n"
      "  priority 2\n"
      "  # before close\n"
      "}\n"
      "# end 1\n"
      "\n"
      "# end 2\n";
  std::string got = fmt_text(in);
  CHECK(got == want);
  CHECK(fmt_text(got) == got);
  CHECK(comment_texts(parse_text(in)) == comment_texts(parse_text(got)));
}

TEST_CASE("formatter: two comments that end up on one line are both kept") {
  std::string in = "let a = 1 +  # one\n  2  # two\nlet b = 2\n";
  std::string got = fmt_text(in);
  CHECK(got == "let a = 1 + 2  # one\n# two\nlet b = 2\n");
  CHECK(fmt_text(got) == got);
}

TEST_CASE("formatter: a file of comments only, and an empty file") {
  CHECK(fmt_text("") == "");
  CHECK(fmt_text("\n\n  \n") == "");
  CHECK(fmt_text("  # only a comment   \n\n\n# another") == "# only a comment\n\n# another\n");
}

TEST_CASE("formatter: CRLF line ends and tabs give the same output as LF and spaces") {
  std::string lf = "# head\n\nlet a = 1  # one\n\nrule r:\n\twhen a\n\tthen send m  # two\n";
  std::string crlf;
  for (char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  std::string got = fmt_text(crlf);
  CHECK(got == fmt_text(lf));
  CHECK(got == "# head\n\nlet a = 1  # one\n\nrule r:\n  when a\n  then send m  # two\n");
  CHECK(got.find('\r') == std::string::npos);
  CHECK(got.find('\t') == std::string::npos);
}

TEST_CASE("formatter: a module without source text (built in memory) is still formatted") {
  Module m = parse_text("let a = 1\n\n\nlet b = 2  # c\n");
  Module copy;
  for (auto& item : m.items) copy.items.push_back(std::move(item));
  // No file: no comments to place, no blank lines to keep.
  CHECK(format_module(copy) == "let a = 1\nlet b = 2\n");
}
