// The checker's stages (SPEC §3-4) over loaded modules: collect declarations, order and type
// definitions, check messages, flatten campaigns and journeys into FlatRules with merged options.
#include "lang/nullability.hpp"
#include "lang/subject.hpp"
#include "lang/checker.hpp"
#include "lang/parser_support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "lang/check_context.hpp"
#include "lang/date.hpp"
#include "lang/diagnostic_codes.hpp"

namespace crm::lang {

namespace {

// Looks `name` up through the index when it is current, else by a linear scan.
template <class V, class Name>
auto find_by_name(const V& items, const std::unordered_map<std::string, size_t>& index, size_t indexed,
                  const std::string& name, Name name_of) -> decltype(&items[0]) {
  if (indexed == items.size() && indexed > 0) {
    auto it = index.find(name);
    return it == index.end() ? nullptr : &items[it->second];
  }
  for (const auto& x : items)
    if (name_of(x) == name) return &x;
  return nullptr;
}

}  // namespace

const Definition* CheckedProgram::find_definition(const std::string& name) const {
  auto p = find_by_name(definitions, index.definitions, index.sizes[0], name, [](auto* d) { return d->name; });
  return p ? *p : nullptr;
}

const Message* CheckedProgram::find_message(const std::string& name) const {
  auto p = find_by_name(messages, index.messages, index.sizes[1], name, [](auto* m) { return m->name; });
  return p ? *p : nullptr;
}

const FlatRule* CheckedProgram::find_rule(const std::string& qualified) const {
  return find_by_name(rules, index.rules, index.sizes[2], qualified, [](const FlatRule& r) { return r.name; });
}

void CheckedProgram::build_index() {
  index = {};
  for (size_t i = 0; i < definitions.size(); ++i) index.definitions.emplace(definitions[i]->name, i);
  for (size_t i = 0; i < messages.size(); ++i) index.messages.emplace(messages[i]->name, i);
  for (size_t i = 0; i < rules.size(); ++i) index.rules.emplace(rules[i].name, i);
  index.sizes[0] = definitions.size();
  index.sizes[1] = messages.size();
  index.sizes[2] = rules.size();
}

namespace detail {
namespace {

// The options written in one place (a rule, a journey or a campaign), after validation.
struct OptionSet {
  const Option* dedupe = nullptr;  // once, once per or every
  const Option* priority = nullptr;
  const Option* from = nullptr;
  const Option* until = nullptr;
  const Option* holdout = nullptr;
  std::vector<const Option*> after;
  SourcePtr file;
  std::vector<std::string> scope;  // qualified names of the enclosing campaigns, innermost last
  std::string owner;               // holdout key when the holdout comes from here
};

struct CampaignFrame {
  Campaign* campaign = nullptr;
  std::string qualified;
  OptionSet options;
};

// A flat rule under construction: where its own options and its campaigns' defaults are.
struct Pending {
  OptionSet own;
  std::vector<const OptionSet*> campaigns;  // outermost first
  std::vector<const Campaign*> campaign_nodes;
};

// The names of `let NAME` / `segment NAME` declarations in files with syntax errors: when such a
// declaration failed to parse, its uses are not reported again as unknown names.
class Checker {
 public:
  Checker(const CheckOptions& options, Diagnostics& diags, CheckedProgram& prog)
      : options_(options), diags_(diags), prog_(prog), typer_(options, diags, defs_) {}

  void run(const std::vector<bool>& given, std::vector<std::vector<bool>> imports) {
    imports_ = std::move(imports);
    std::set<const SourceFile*> broken;
    for (const auto& d : diags_.items())
      if (d.severity == Severity::Error && d.file) broken.insert(d.file.get());
    std::set<std::string> unparsed;  // recorded by the parser
    for (const Module& m : prog_.modules) unparsed.insert(m.unparsed_definitions.begin(), m.unparsed_definitions.end());
    typer_.set_unparsed_definitions(std::move(unparsed));
    for (size_t i = 0; i < prog_.modules.size(); ++i) {
      Module& m = prog_.modules[i];
      std::vector<CampaignFrame*> stack;
      collect(m, m.items, stack, i < given.size() && given[i], i);
    }
    order_definitions();
    type_definitions();
    // Expressions outside definitions are typed once every definition's type is known.
    for (auto& job : deferred_) job();
    for (auto& [name, m] : msgs_) check_subject(m);
    for (const auto& r : prog_.rules) rule_names_.insert(r.name);
    for (size_t i = 0; i < prog_.rules.size(); ++i) check_rule(prog_.rules[i], pending_[i]);
    check_duplicate_rules();
    check_timezones();
    lint(prog_, defs_, msgs_, broken, diags_);
  }

 private:
  // ------------------------------------------------------------ stage 1: declarations

  void collect(Module& m, std::vector<Item>& items, std::vector<CampaignFrame*>& stack, bool given, size_t mod) {
    // Campaign-level options first, so that they are known to every rule of the campaign.
    if (!stack.empty()) {
      std::vector<const Option*> opts;
      for (auto& item : items)
        if (auto* o = std::get_if<Option>(&item.node)) opts.push_back(o);
      stack.back()->options = validate(opts, m.file, Where::Customer, stack, stack.back()->qualified);
    }
    for (auto& item : items) {
      if (auto* d = std::get_if<Definition>(&item.node)) add_definition(*d, m.file, given, mod);
      else if (auto* msg = std::get_if<Message>(&item.node)) add_message(*msg, m.file, given);
      else if (auto* r = std::get_if<Rule>(&item.node)) add_rule(*r, m.file, stack);
      else if (auto* j = std::get_if<Journey>(&item.node)) add_journey(*j, m.file, stack);
      else if (auto* l = std::get_if<Limit>(&item.node)) add_limit(*l, m.file, stack);
      else if (auto* tz = std::get_if<Timezone>(&item.node)) timezones_.push_back({tz, m.file});
      else if (auto* c = std::get_if<Campaign>(&item.node)) {
        frames_.push_back(std::make_unique<CampaignFrame>());
        CampaignFrame* frame = frames_.back().get();
        frame->campaign = c;
        frame->qualified = stack.empty() ? c->name : stack.back()->qualified + "." + c->name;
        if (c->when)
          deferred_.push_back([this, c, file = m.file] {
            typer_.condition(*c->when, file, Where::Customer, &campaign_use_[c], "a campaign's 'when'");
          });
        stack.push_back(frame);
        collect(m, c->items, stack, given, mod);
        stack.pop_back();
      }
    }
  }

  // True when module `a` imports module `b`, directly or through other modules.
  bool imports(size_t a, size_t b) const { return a < imports_.size() && b < imports_[a].size() && imports_[a][b]; }

  void add_definition(Definition& d, const SourcePtr& file, bool given, size_t mod) {
    if (stdlib::find_attribute(d.name)) {
      diags_.error(file, d.name_span, code::duplicate_definition,
                   fmt::format("'{}' is a built-in attribute and cannot be redefined", d.name), "choose another name");
      dropped_defs_.push_back({&d, file});
      return;
    }
    auto [it, fresh] = defs_.try_emplace(d.name);
    if (!fresh && it->second.module != mod && imports(mod, it->second.module)) {
      // A module parameter: the importing file's definition replaces the imported one.
      overridden_.push_back({it->second.def, it->second.file, &d, file});
      it->second = DefEntry{};
      fresh = true;
    }
    if (!fresh) {
      auto& diag = diags_.error(file, d.name_span, code::duplicate_definition,
                                fmt::format("'{}' is defined more than once", d.name), "rename one of them");
      diag.notes.push_back({it->second.file, it->second.def->name_span, "previous definition here"});
      dropped_defs_.push_back({&d, file});
      return;
    }
    it->second.def = &d;
    it->second.file = file;
    it->second.module = mod;
    it->second.given = given;
  }

  void add_message(Message& msg, const SourcePtr& file, bool given) {
    auto [it, fresh] = msgs_.try_emplace(msg.name);
    if (!fresh) {
      auto& diag = diags_.error(file, msg.name_span, code::duplicate_message,
                                fmt::format("message '{}' is declared more than once", msg.name), "rename one of them");
      diag.notes.push_back({it->second.file, it->second.msg->name_span, "previous definition here"});
      return;
    }
    it->second = {&msg, file, given, false};
    prog_.messages.push_back(&msg);
  }

  std::vector<std::string> scope_of(const std::vector<CampaignFrame*>& stack) {
    std::vector<std::string> out;
    for (auto* f : stack) out.push_back(f->qualified);
    return out;
  }

  FlatRule base_rule(const SourcePtr& file, const std::vector<CampaignFrame*>& stack) {
    FlatRule fr;
    fr.file = file;
    fr.order = prog_.rules.size();
    for (auto* f : stack) {
      fr.campaigns.push_back(f->campaign->name);
      if (f->campaign->when) fr.conditions.push_back(f->campaign->when.get());
    }
    return fr;
  }

  Pending pending_for(const std::vector<CampaignFrame*>& stack) {
    Pending p;
    for (auto* f : stack) {
      p.campaigns.push_back(&f->options);
      p.campaign_nodes.push_back(f->campaign);
    }
    return p;
  }

  void add_rule(Rule& r, const SourcePtr& file, const std::vector<CampaignFrame*>& stack) {
    std::string prefix = stack.empty() ? "" : stack.back()->qualified + ".";
    std::string local = !r.name.empty() ? r.name
                                        : fmt::format("{}:{}", file ? file->stem() : std::string("<script>"),
                                                      file ? file->line_col(r.span.begin).line : 0);
    r.qualified = prefix + local;
    FlatRule fr = base_rule(file, stack);
    fr.name = r.qualified;
    fr.span = r.span;
    fr.name_span = r.name.empty() ? r.span : r.name_span;
    fr.event = r.event;
    fr.rule = &r;
    if (r.when) fr.conditions.push_back(r.when.get());
    fr.actions = &r.actions;
    Where where = where_for_event(r.event);
    Pending p = pending_for(stack);
    std::vector<const Option*> opts;
    for (auto& o : r.options) opts.push_back(&o);
    p.own = validate(opts, file, where, stack, r.qualified);
    if (r.when)
      deferred_.push_back([this, &r, file, where] {
        typer_.condition(*r.when, file, where, &rule_use_[&r], "a rule's 'when'");
      });
    prog_.rules.push_back(std::move(fr));
    pending_.push_back(std::move(p));
  }

  void add_journey(Journey& j, const SourcePtr& file, const std::vector<CampaignFrame*>& stack) {
    j.qualified = stack.empty() ? j.name : stack.back()->qualified + "." + j.name;
    Where where = where_for_event(j.event);
    deferred_.push_back([this, &j, file, where] {
      ExprUse& use = journey_use_[&j];
      if (j.when) typer_.condition(*j.when, file, where, &use, "a journey's 'when'");
      if (j.exit_when) typer_.condition(*j.exit_when, file, where, &use, "'exit when'");
    });
    std::vector<const Option*> opts;
    for (auto& o : j.options) opts.push_back(&o);
    OptionSet own = validate(opts, file, where, stack, j.qualified);
    for (size_t k = 0; k < j.steps.size(); ++k) {
      JourneyStep& s = j.steps[k];
      if (s.day < 0)
        diags_.error(file, s.span, code::option_range, fmt::format("'day {}' is before the journey starts", s.day),
                     "days count from the entry date: day 0 is the entry day");
      FlatRule fr = base_rule(file, stack);
      fr.name = fmt::format("{}.day_{}", j.qualified, s.day);
      fr.span = s.span;
      fr.name_span = j.name_span;
      fr.event = j.event;
      fr.journey = &j;
      fr.step = static_cast<int>(k);
      fr.journey_day = s.day;
      if (j.when) fr.conditions.push_back(j.when.get());
      if (s.unless)
        deferred_.push_back([this, &s, file, where] {
          typer_.condition(*s.unless, file, where, &step_use_[&s], "'unless'");
        });
      fr.unless = s.unless.get();
      fr.exit_when = j.exit_when.get();
      fr.actions = &s.actions;
      Pending p = pending_for(stack);
      p.own = own;
      prog_.rules.push_back(std::move(fr));
      pending_.push_back(std::move(p));
    }
  }

  void add_limit(Limit& l, const SourcePtr& file, const std::vector<CampaignFrame*>& stack) {
    if (l.count < 1)
      diags_.error(file, l.span, code::option_range, fmt::format("a limit needs a count of at least 1, got {}", l.count),
                   "to stop sending, remove the rules instead");
    if (l.days < 1)
      diags_.error(file, l.span, code::option_range, fmt::format("a limit needs a period of at least 1 day, got {}", l.days));
    prog_.limits.push_back({&l, stack.empty() ? std::string() : stack.back()->qualified, file});
  }

  // ------------------------------------------------------------ options

  OptionSet validate(const std::vector<const Option*>& opts, const SourcePtr& file, Where where,
                     const std::vector<CampaignFrame*>& stack, const std::string& owner) {
    OptionSet s;
    s.file = file;
    s.scope = scope_of(stack);
    s.owner = owner;
    std::map<OptionKind, const Option*> seen;
    for (const Option* o : opts) {
      if (o->kind != OptionKind::After) {
        auto [it, fresh] = seen.emplace(o->kind, o);
        if (!fresh) {
          auto& d = diags_.error(file, o->span, code::duplicate_option,
                                 fmt::format("option '{}' is given more than once", option_name(o->kind)),
                                 "keep one of them");
          d.notes.push_back({file, it->second->span, fmt::format("previous '{}' here", option_name(o->kind))});
          continue;
        }
      }
      switch (o->kind) {
        case OptionKind::Once:
        case OptionKind::OncePer:
        case OptionKind::Every:
          if (o->kind == OptionKind::OncePer && o->expr)
            deferred_.push_back([this, o, file, where] {
              Type t = typer_.type(*o->expr, file, where, &option_use_[o->expr.get()]);
              if (t.kind == TypeKind::List)
                diags_.error(file, o->expr->span, code::type,
                             fmt::format("'once per' needs a single value, got {}", type_name(t)));
            });
          if (o->kind == OptionKind::Every && o->n < 1)
            diags_.error(file, o->span, code::option_range, fmt::format("'every' needs at least 1 day, got {}", o->n));
          if (s.dedupe) {
            auto& d = diags_.error(file, o->span, code::option_conflict,
                                   fmt::format("'{}' and '{}' cannot be combined", option_name(s.dedupe->kind),
                                               option_name(o->kind)),
                                   "once, once per and every each say how often the rule may fire: keep one");
            d.notes.push_back({file, s.dedupe->span, "the other one is here"});
          } else {
            s.dedupe = o;
          }
          break;
        case OptionKind::Priority: s.priority = o; break;
        case OptionKind::After: s.after.push_back(o); break;
        case OptionKind::From: s.from = o; break;
        case OptionKind::Until: s.until = o; break;
        case OptionKind::Holdout:
          if (o->pct < 0 || o->pct > 100)
            diags_.error(file, o->span, code::option_range,
                         fmt::format("holdout must be between 0% and 100%, got {}%",
                                     o->text.empty() ? fmt::format("{}", o->pct) : o->text));
          else
            s.holdout = o;
          break;
      }
    }
    return s;
  }

  // Resolves `after NAME` written in a place whose campaigns are `scope`: the innermost campaign
  // first, then outwards, then the global name.
  std::optional<std::string> resolve_after(const Option& o, const OptionSet& where) {
    for (auto it = where.scope.rbegin(); it != where.scope.rend(); ++it) {
      std::string q = *it + "." + o.name;
      if (rule_names_.count(q)) return q;
    }
    if (rule_names_.count(o.name)) return o.name;
    return std::nullopt;
  }

  void apply_options(FlatRule& fr, const Pending& p) {
    // The nearest place that says something wins: the rule, then its campaigns inside-out.
    std::vector<const OptionSet*> chain{&p.own};
    for (auto it = p.campaigns.rbegin(); it != p.campaigns.rend(); ++it) chain.push_back(*it);
    auto pick = [&](auto member) -> std::pair<const Option*, const OptionSet*> {
      for (const OptionSet* s : chain)
        if (s->*member) return {s->*member, s};
      return {nullptr, nullptr};
    };
    if (auto [o, s] = pick(&OptionSet::dedupe); o) {
      fr.dedupe = o->kind == OptionKind::Once      ? FlatRule::Dedupe::Once
                  : o->kind == OptionKind::OncePer ? FlatRule::Dedupe::OncePer
                                                   : FlatRule::Dedupe::Every;
      fr.once_per = o->kind == OptionKind::OncePer ? o->expr.get() : nullptr;
      fr.every_days = o->kind == OptionKind::Every ? o->n : 0;
    }
    if (auto [o, s] = pick(&OptionSet::priority); o) fr.priority = o->n;
    auto [from, from_set] = pick(&OptionSet::from);
    auto [until, until_set] = pick(&OptionSet::until);
    if (from) fr.from = from->date;
    if (until) fr.until = until->date;
    if (from && until && from->date > until->date)
      diags_.error(until_set->file, until->span, code::option_range,
                   fmt::format("'until {}' is before 'from {}'", format_date(until->date), format_date(from->date)),
                   "the rule would never be live");
    if (auto [o, s] = pick(&OptionSet::holdout); o) {
      fr.holdout_pct = o->pct;
      fr.holdout_key = s->owner;
    }
    for (const OptionSet* s : chain) {
      if (s->after.empty()) continue;
      for (const Option* o : s->after) {
        auto q = resolve_after(*o, *s);
        if (!q) {
          std::vector<std::string> cands(rule_names_.begin(), rule_names_.end());
          for (const auto& sc : s->scope)
            for (const auto& n : rule_names_)
              if (n.rfind(sc + ".", 0) == 0) cands.push_back(n.substr(sc.size() + 1));
          std::string best = closest_match(o->name, cands);
          diags_.error(s->file, o->name_span.end > o->name_span.begin ? o->name_span : o->span, code::unknown_rule,
                       fmt::format("unknown rule '{}' in 'after'", o->name),
                       !best.empty() ? fmt::format("did you mean '{}'?", best)
                       : rule_names_.empty() || rule_names_.size() > 8
                           ? std::string("write the name of a rule declared 'rule NAME: ...' ('campaign.NAME' "
                                         "outside its campaign)")
                           : fmt::format("the rules are: {}", fmt::join(rule_names_, ", ")));
          continue;
        }
        if (*q == fr.name) {
          diags_.error(s->file, o->name_span.end > o->name_span.begin ? o->name_span : o->span, code::after_self,
                       fmt::format("rule '{}' cannot wait for itself", fr.name));
          continue;
        }
        fr.after.push_back({*q, o->n, o->span});
      }
      break;
    }
  }

  // ------------------------------------------------------------ stage 2: definitions

  void order_definitions() {
    // Direct references between definitions (names only; types come after ordering).
    std::map<std::string, std::vector<std::string>> deps;
    for (auto& [name, d] : defs_) {
      std::set<std::string> seen;
      std::vector<std::string> out;
      std::function<void(const Expr&, int)> walk = [&](const Expr& e, int depth) {
        if (depth > kMaxExprDepth) return;
        if (e.kind == Expr::Kind::Name && defs_.count(e.text) && seen.insert(e.text).second) out.push_back(e.text);
        for (const auto& a : e.args)
          if (a) walk(*a, depth + 1);
      };
      if (d.def->expr) walk(*d.def->expr, 0);
      deps[name] = out;
    }
    // Iterative depth-first search in declaration order: post-order is dependency order.
    std::vector<std::pair<SourcePtr, Definition*>> decl;
    for (auto& m : prog_.modules) collect_defs(m.file, m.items, decl);
    enum Color { White, Gray, Black };
    std::map<std::string, Color> color;
    for (auto& [file, d] : decl) {
      auto it = defs_.find(d->name);
      if (it == defs_.end() || it->second.def != d || color[d->name] != White) continue;
      std::vector<std::pair<std::string, size_t>> stack{{d->name, 0}};
      color[d->name] = Gray;
      while (!stack.empty()) {
        auto& [v, i] = stack.back();
        auto& ds = deps[v];
        if (i < ds.size()) {
          std::string w = ds[i++];
          if (color[w] == White) {
            color[w] = Gray;
            stack.push_back({w, 0});
          } else if (color[w] == Gray) {
            std::vector<std::string> cycle;
            bool on = false;
            for (auto& [n, k] : stack) {
              if (n == w) on = true;
              if (on) cycle.push_back(n);
            }
            cycle.push_back(w);
            const DefEntry& de = defs_.at(w);
            diags_.error(de.file, de.def->name_span, code::definition_cycle,
                         fmt::format("definition cycle: {}", fmt::join(cycle, " -> ")),
                         "a definition cannot depend on itself, directly or through others");
            for (auto& n : cycle) cyclic_.insert(n);
          }
        } else {
          topo_.push_back(v);
          color[v] = Black;
          stack.pop_back();
        }
      }
    }
  }

  void collect_defs(const SourcePtr& file, std::vector<Item>& items, std::vector<std::pair<SourcePtr, Definition*>>& out) {
    for (auto& item : items) {
      if (auto* d = std::get_if<Definition>(&item.node)) out.push_back({file, d});
      else if (auto* c = std::get_if<Campaign>(&item.node)) collect_defs(file, c->items, out);
    }
  }

  // The height of `e` counting, for each name of a definition, that definition's own depth.
  // Bounded by the parser's nesting limit; definitions come from def_depth_ (dependency order).
  int reach_depth(const Expr& e, int depth, bool& via_too_deep) {
    int h = 1;
    if (depth > kMaxExprDepth) return h;
    if (e.kind == Expr::Kind::Name) {
      auto it = def_depth_.find(e.text);
      if (it != def_depth_.end()) {
        h = 1 + it->second;
        if (it->second > kMaxDefinitionDepth) via_too_deep = true;
      }
    }
    for (const auto& a : e.args)
      if (a) h = std::max(h, 1 + reach_depth(*a, depth + 1, via_too_deep));
    return h;
  }

  void check_definition_depth(const std::string& name, DefEntry& d) {
    bool via = false;
    int h = reach_depth(*d.def->expr, 0, via);
    def_depth_[name] = h;
    if (h > kMaxDefinitionDepth && !via)  // reported once, where the chain crosses the limit
      diags_.error(d.file, d.def->name_span, code::too_deep,
                   fmt::format("'{}' reaches {} levels deep through the definitions it uses (the limit is {})", name,
                               h, kMaxDefinitionDepth),
                   "split the chain of definitions: each `let` naming the previous one adds a level");
  }

  void type_definitions() {
    for (const auto& name : topo_) {
      DefEntry& d = defs_.at(name);
      if (!d.def->expr) continue;
      check_definition_depth(name, d);
      ExprUse use;
      Type t = typer_.type(*d.def->expr, d.file, Where::Customer, &use);
      if (d.def->segment && !(t.kind == TypeKind::Bool || t.kind == TypeKind::Any || t.kind == TypeKind::Error ||
                              t.kind == TypeKind::Null))
        diags_.error(d.file, d.def->expr->span, code::type,
                     fmt::format("segment '{}' must be bool, got {}", name, type_name(t)),
                     fmt::format("use 'let {}' for a value that is not a yes/no", name));
      d.type = t;
      d.uses.assign(use.defs.begin(), use.defs.end());
      d.tags = use.tags;
      if (!cyclic_.count(name)) d.typed = true;
      prog_.definitions.push_back(d.def);
    }
    for (auto& [d, file] : dropped_defs_)
      if (d->expr) typer_.type(*d->expr, file, Where::Customer, nullptr);
    check_overrides();
  }

  // An override keeps the type of the definition it replaces (an int may replace a decimal, and
  // null anything), so the imported module's rules still type-check with the new value.
  void check_overrides() {
    for (auto& o : overridden_) {
      if (!o.original->expr || !o.by->expr) continue;
      Type was = typer_.type(*o.original->expr, o.original_file, Where::Customer, nullptr);
      Type now = o.by->expr->type;
      auto loose = [](Type t) { return t.is_error() || t.kind == TypeKind::Any; };
      bool ok = loose(was) || loose(now) || was == now || now.kind == TypeKind::Null ||
                (was.kind == TypeKind::Decimal && now.kind == TypeKind::Int) ||
                (was.kind == TypeKind::List && now.kind == TypeKind::List &&
                 (now.elem == TypeKind::Error || (was.elem == TypeKind::Decimal && now.elem == TypeKind::Int)));
      if (ok) continue;
      auto& diag = diags_.error(o.by_file, o.by->expr->span, code::override_type,
                                fmt::format("'{}' overrides a definition of type {} with one of type {}", o.by->name,
                                            type_name(was), type_name(now)),
                                fmt::format("the imported module uses '{}' as {}: keep that type", o.by->name,
                                            type_name(was)));
      diag.notes.push_back({o.original_file, o.original->name_span, "overridden definition here"});
    }
  }

  // ------------------------------------------------------------ messages

  void check_subject(MsgEntry& m) {
    if (!m.msg->subject) return;
    const std::string& s = *m.msg->subject;
    for (const Placeholder& p : subject_placeholders(s)) {
      const std::string& name = p.name;
      std::string raw_text = s.substr(p.begin, p.end - p.begin);
      auto span_of = [&] {  // the placeholder in the source when it is written as in the string
        Span span = m.msg->subject_span;
        if (m.file && span.end <= m.file->text().size()) {
          std::string_view raw(m.file->text().data() + span.begin, span.end - span.begin);
          size_t at = raw.find(raw_text);
          if (at != std::string_view::npos)
            span = {static_cast<uint32_t>(span.begin + at), static_cast<uint32_t>(span.begin + at + raw_text.size())};
        }
        return span;
      };
      if (p.has_format && !valid_format(p.format)) {
        diags_.error(m.file, span_of(), code::subject_format,
                     fmt::format("unknown number format '{}' of placeholder '{}' in the subject of '{}'", p.format, name,
                                 m.msg->name),
                     fmt::format("write {{{}:2}} for 2 decimals (0 to 6), or {{{}:plain}} without separators", name, name));
        continue;
      }
      if (p.has_fallback && !p.fallback_quoted) {
        diags_.error(m.file, span_of(), code::subject_fallback,
                     fmt::format("the fallback of placeholder '{}' in the subject of '{}' must be a quoted string", name,
                                 m.msg->name),
                     fmt::format("write {{{}|'text'}}", name));
        continue;
      }
      if (name == "recommended") continue;  // a list, never null (empty when nothing to recommend)
      if (typer_.lookup(name, nullptr) || stdlib::find_attribute(name)) {
        if (!p.has_fallback) warn_nullable_placeholder(m, name, span_of());
        continue;
      }
      std::vector<std::string> cands;
      for (const auto& a : stdlib::attributes()) cands.emplace_back(a.name);
      for (const auto& [n, d] : defs_) cands.push_back(n);
      for (const auto& x : options_.extra_attributes) cands.push_back(x.name);
      std::string best = closest_match(name, cands);
      diags_.error(m.file, span_of(), code::unknown_name, fmt::format("unknown attribute '{}' in the subject of '{}'", name, m.msg->name),
                   best.empty() ? "placeholders {NAME} name an attribute or a let/segment definition"
                                : fmt::format("did you mean '{}'?", best));
    }
  }

  // A placeholder without a fallback whose value may be null renders as nothing: W-subject-null.
  void warn_nullable_placeholder(MsgEntry& m, const std::string& name, Span span) {
    auto definition = [&](const std::string& n) -> const Expr* {
      auto it = defs_.find(n);
      return it == defs_.end() || !it->second.def ? nullptr : it->second.def->expr.get();
    };
    Expr ref;
    ref.kind = Expr::Kind::Name;
    ref.text = name;
    if (!can_be_null(ref, definition)) return;
    diags_.warning(m.file, span, code::subject_null,
                   fmt::format("placeholder '{}' in the subject of '{}' may be null and would render as nothing",
                               name, m.msg->name),
                   fmt::format("give a fallback: {{{}|\"text\"}}, or coalesce() it in a let", name));
  }

  // ------------------------------------------------------------ stage 3: rules

  void check_rule(FlatRule& fr, const Pending& p) {
    Where where = where_for_event(fr.event);
    ExprUse use;
    auto merge = [&](const ExprUse& u) {
      use.defs.insert(u.defs.begin(), u.defs.end());
      use.tags.insert(u.tags.begin(), u.tags.end());
    };
    for (auto* c : p.campaign_nodes) merge(campaign_use_[c]);
    if (fr.rule) {
      merge(rule_use_[fr.rule]);
    } else if (fr.journey) {
      merge(journey_use_[fr.journey]);
      merge(step_use_[&fr.journey->steps[fr.step]]);
    }
    apply_options(fr, p);
    if (fr.once_per) merge(option_use_[fr.once_per]);
    for (const auto& a : *fr.actions) check_action(const_cast<Action&>(a), fr, where, use);
    fr.uses_definitions.assign(use.defs.begin(), use.defs.end());
    fr.reads_tags.assign(use.tags.begin(), use.tags.end());
    std::sort(fr.writes_tags.begin(), fr.writes_tags.end());
    fr.writes_tags.erase(std::unique(fr.writes_tags.begin(), fr.writes_tags.end()), fr.writes_tags.end());
  }

  void check_action(Action& a, FlatRule& fr, Where where, ExprUse& use) {
    switch (a.kind) {
      case ActionKind::Send: {
        auto it = msgs_.find(a.name);
        if (it == msgs_.end()) {
          std::vector<std::string> names;
          for (auto& [n, m] : msgs_) names.push_back(n);
          std::string best = closest_match(a.name, names);
          diags_.error(fr.file, a.name_span.end > a.name_span.begin ? a.name_span : a.span, code::unknown_message,
                       fmt::format("unknown message '{}'", a.name),
                       best.empty() ? fmt::format("declare it: message {} via email subject \"...\"", a.name)
                                    : fmt::format("did you mean '{}'?", best));
          return;
        }
        it->second.used = true;
        if (!a.channel && !it->second.msg->channel)
          diags_.error(fr.file, a.span, code::no_channel, fmt::format("message '{}' has no channel", a.name),
                       "add 'via email' to the message or the send");
        break;
      }
      case ActionKind::Points:
        if (a.points) {
          Type t = typer_.type(*a.points, fr.file, where, &use);
          if (!(t.is_numeric() || t.kind == TypeKind::Any || t.kind == TypeKind::Error || t.kind == TypeKind::Null))
            diags_.error(fr.file, a.points->span, code::type, fmt::format("points must be an int or decimal, got {}", type_name(t)));
        }
        break;
      case ActionKind::Tag:
      case ActionKind::Untag: fr.writes_tags.push_back(a.name); break;
      case ActionKind::Coupon:
      case ActionKind::Offer: break;
    }
  }

  void check_duplicate_rules() {
    std::map<std::string, const FlatRule*> first;
    for (const auto& r : prog_.rules) {
      auto [it, fresh] = first.emplace(r.name, &r);
      if (fresh) continue;
      auto& d = diags_.warning(r.file, r.name_span, code::duplicate_rule,
                               fmt::format("two rules are named '{}': they share one firing history", r.name),
                               "rename one of them");
      d.notes.push_back({it->second->file, it->second->name_span, "previous definition here"});
    }
  }

  // ------------------------------------------------------------ policies

  void check_timezones() {
    const Timezone* first = nullptr;
    SourcePtr first_file;
    for (auto& [tz, file] : timezones_) {
      if (!looks_like_zone(tz->name)) {
        diags_.error(file, tz->span, code::timezone, fmt::format("'{}' is not a time zone name", tz->name),
                     "use an IANA name such as \"Asia/Tokyo\" or \"UTC\"");
        continue;
      }
      std::error_code ec;
      if (!std::filesystem::is_regular_file(std::filesystem::path("/usr/share/zoneinfo") / tz->name, ec))
        diags_.warning(file, tz->span, code::timezone_unknown,
                       fmt::format("time zone '{}' is not in /usr/share/zoneinfo", tz->name),
                       "check the spelling, e.g. \"Asia/Tokyo\"");
      if (!first) {
        first = tz;
        first_file = file;
        prog_.timezone = tz->name;
      } else if (tz->name != first->name) {
        auto& d = diags_.error(file, tz->span, code::timezone_conflict,
                               fmt::format("conflicting time zones '{}' and '{}'", first->name, tz->name),
                               "a program runs in one time zone: keep one 'timezone'");
        d.notes.push_back({first_file, first->span, "the other time zone is set here"});
      }
    }
  }

  static bool looks_like_zone(const std::string& n) {
    if (n.empty() || n.size() > 64 || n.front() == '/' || n.back() == '/') return false;
    if (n.find("..") != std::string::npos || n.find("//") != std::string::npos) return false;
    for (char ch : n)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' || ch == '-' || ch == '+'))
        return false;
    return std::isalpha(static_cast<unsigned char>(n.front()));
  }

 public:
  const CheckOptions& options_;
  Diagnostics& diags_;
  CheckedProgram& prog_;
  std::map<std::string, DefEntry> defs_;
  std::map<std::string, MsgEntry> msgs_;
  Typer typer_;
  std::vector<std::pair<Definition*, SourcePtr>> dropped_defs_;
  struct Override {
    Definition* original;
    SourcePtr original_file;
    Definition* by;
    SourcePtr by_file;
  };
  std::vector<Override> overridden_;  // module parameters replaced by an importing file
  std::vector<std::vector<bool>> imports_;
  std::vector<std::pair<Timezone*, SourcePtr>> timezones_;
  std::vector<std::unique_ptr<CampaignFrame>> frames_;
  std::vector<Pending> pending_;
  std::map<const Campaign*, ExprUse> campaign_use_;
  std::map<const Journey*, ExprUse> journey_use_;
  std::map<const JourneyStep*, ExprUse> step_use_;
  std::map<const Expr*, ExprUse> option_use_;
  std::map<const Rule*, ExprUse> rule_use_;
  std::vector<std::function<void()>> deferred_;
  std::vector<std::string> topo_;
  std::map<std::string, int> def_depth_;  // check_definition_depth, in dependency order
  std::set<std::string> cyclic_;
  std::set<std::string> rule_names_;
};

}  // namespace

CheckedProgram check_loaded(LoadedModules loaded, const CheckOptions& options, Diagnostics& diags) {
  CheckedProgram prog;
  prog.modules = std::move(loaded.modules);
  // The columns set by test fixtures are attributes of the script under test.
  CheckOptions with_fixtures = options;
  for (auto& x : fixture_columns(prog.modules, loaded.given, options, diags))
    with_fixtures.extra_attributes.push_back(std::move(x));
  Checker checker(with_fixtures, diags, prog);
  checker.run(loaded.given, std::move(loaded.imports));
  prog.build_index();
  check_tests(prog, loaded.given, diags);
  diags.sort();
  return prog;
}

}  // namespace detail
}  // namespace crm::lang
