// `crm fit`: the three lifetime models fitted on a store's paid orders as of a date, with an
// optional holdout comparison and tracking curves; the fitted models saved in the store.
#pragma once
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/model/bgnbd.hpp"
#include "engine/model/gamma_gamma.hpp"
#include "engine/model/pareto_nbd.hpp"
#include "engine/model/rfm_summary.hpp"

namespace crm::model {

// Data that no model can be fitted on (empty store, no repeat buyers, one day of purchases...),
// or a fit that did not converge. what() is one line; hint() says what to do.
class FitError : public std::runtime_error {
 public:
  FitError(const std::string& what, std::string hint) : std::runtime_error(what), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// The models by their names in the store and in JSON.
constexpr const char* kBgNbd = "bgnbd";
constexpr const char* kParetoNbd = "pareto_nbd";
constexpr const char* kGammaGamma = "gamma_gamma";

struct FitOptions {
  std::optional<Days> as_of;         // last day of facts used (default: the last paid order's day)
  std::optional<Days> holdout_from;  // calibration ends the day before; holdout runs to as_of
  TimeUnit unit = TimeUnit::weeks;
  bool bgnbd = true, pareto = true, gamma_gamma = true;
  // Told, before each model's fit, what is being fitted on how many distinct (x, t_x, T) rows
  // when the fit is big enough to take a while (kProgressRows); `crm fit` prints it on stderr.
  std::function<void(const std::string&)> progress;
};

// From this many distinct (x, t_x, T) rows, FitOptions::progress is told about each model.
inline constexpr size_t kProgressRows = 100'000;

// One fitted model: parameters under the papers' names, in order, with standard errors (NaN
// when the Hessian is not positive definite).
struct ModelFit {
  std::string name;
  std::vector<std::string> names;
  std::vector<double> params, se;
  double log_likelihood = 0;
  double customers = 0;  // customers whose data entered the likelihood
  int iterations = 0;
  double seconds = 0;
};

// Holdout comparison for customers with x repeat purchases in calibration (x = kTopGroup means
// kTopGroup or more), as in the papers' conditional-expectation figure.
constexpr int kTopGroup = 7;
struct HoldoutGroup {
  int x = 0;
  int64_t customers = 0;
  double actual = 0;                 // repeat purchase days in the holdout, summed
  double bgnbd = 0, pareto = 0;      // expected, summed
};

// Weekly tracking of the cohort's repeat purchases over calibration and holdout.
struct TrackingWeek {
  Days start = 0;
  double actual = 0;
  double bgnbd = 0, pareto = 0;  // expected, by differences of the cumulative expectation
};

struct FitResult {
  TimeUnit unit = TimeUnit::weeks;
  Days first_day = 0, calibration_end = 0;
  std::optional<Days> holdout_end;
  int64_t customers = 0, repeat_buyers = 0, purchase_days = 0;
  int64_t spend_left_out = 0;  // repeat buyers left out of Gamma-Gamma (mean spend <= 0)
  std::optional<BgNbdParams> bgnbd;
  std::optional<ParetoNbdParams> pareto;
  std::optional<GammaGammaParams> gamma_gamma;
  std::vector<ModelFit> fits;  // in the order bgnbd, pareto_nbd, gamma_gamma (those fitted)
  std::vector<HoldoutGroup> holdout;  // kTopGroup + 1 groups, when there is a holdout
  std::vector<TrackingWeek> tracking;
  double load_seconds = 0;
};

// Loads the paid orders and fits. Throws FitError for unusable data or a failed fit.
FitResult fit_models(engine::SqlSession& db, const FitOptions& options);

// Saves the fitted models in table `models` (created if absent), as of the calibration end.
void save_models(engine::SqlSession& db, const FitResult& fit);

// The text (`crm fit`), JSON (one object per model, one per line) and HTML (--report) outputs.
std::string fit_text(const FitResult& fit);
std::string fit_json(const FitResult& fit);
std::string fit_report_html(const FitResult& fit, const std::string& store_name);

}  // namespace crm::model
