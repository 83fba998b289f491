// The HTML campaign report of `crm simulate --report`: one self-contained file (inline CSS and
// SVG, no script, no network; a Content-Security-Policy forbids both) that any browser opens.
#pragma once
#include <string>

#include "engine/report/report.hpp"

namespace crm::engine {

// The whole document. Every text from the script (rule, message names) or the store (cancel
// reasons) is HTML-escaped. Deterministic: no clock, so the same inputs give the same bytes.
std::string report_html(const ReportInput& in);

// The report's style sheet (for other reports in the same look, e.g. `crm fit --report`).
const char* report_css();

}  // namespace crm::engine
