// The store's currency (meta key `currency`, an ISO 4217 code set by `crm init --currency`) and
// its minor unit: the decimals money is shown with (subjects; docs/store.md "Currency").
#pragma once
#include <string_view>

namespace crm::engine {

// Money is shown with 2 decimals unless the store's currency says otherwise.
constexpr int kDefaultMoneyDigits = 2;

// Whether `code` looks like an ISO 4217 code: three letters A-Z.
inline bool is_currency_code(std::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code)
    if (c < 'A' || c > 'Z') return false;
  return true;
}

// The minor unit of a currency: 0 for the yen, won and the other currencies without one, 3 for
// the dinars of Bahrain, Iraq, Jordan, Kuwait, Libya, Tunisia and the Omani rial, else 2.
inline int currency_digits(std::string_view code) {
  for (std::string_view z : {"JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "RWF", "KMF", "GNF", "DJF", "BIF",
                             "VUV", "XAF", "XOF", "XPF"})
    if (code == z) return 0;
  for (std::string_view t : {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
    if (code == t) return 3;
  return kDefaultMoneyDigits;
}

}  // namespace crm::engine
