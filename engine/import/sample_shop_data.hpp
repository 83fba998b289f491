// The sample shop's fixed data: its catalogue (a Japanese skincare and supplement D2C brand,
// prices in yen), customer names, and the reasons subscribers give for pausing or cancelling.
#pragma once
#include <array>
#include <vector>

namespace crm::examples {

enum class Category { Trial, FullSize, Refill, Supplement, Subscription, Bundle, Gift };

struct Product {
  const char* sku;
  const char* name;
  const char* category;  // products.category
  Category kind;
  int price;  // yen, tax included
};

// products.id is the 1-based position in this table.
inline constexpr std::array<Product, 18> kProducts = {{
    {"TRIAL-MOIST", "うるおいお試しセット（7日分）", "trial", Category::Trial, 1980},
    {"TRIAL-AGING", "エイジングケアお試しセット（14日分）", "trial", Category::Trial, 2980},
    {"LOTION-150", "モイスト化粧水 150mL", "skincare", Category::FullSize, 4800},
    {"SERUM-30", "ブライトニング美容液 30mL", "skincare", Category::FullSize, 8800},
    {"CREAM-50", "ナイトクリーム 50g", "skincare", Category::FullSize, 6600},
    {"CLEANSE-120", "クレンジングバーム 120g", "skincare", Category::FullSize, 3960},
    {"UV-50", "UVミルク SPF50 50mL", "skincare", Category::FullSize, 3300},
    {"LOTION-REFILL", "モイスト化粧水 詰め替え 150mL", "refill", Category::Refill, 4200},
    {"SERUM-REFILL", "ブライトニング美容液 詰め替え 30mL", "refill", Category::Refill, 7700},
    {"CREAM-REFILL", "ナイトクリーム 詰め替え 50g", "refill", Category::Refill, 5800},
    {"SUPP-COLLAGEN", "コラーゲンドリンク 30日分", "supplement", Category::Supplement, 5400},
    {"SUPP-VITC", "ビタミンC タブレット 60日分", "supplement", Category::Supplement, 2980},
    {"SUPP-ENZYME", "酵素サプリ 30日分", "supplement", Category::Supplement, 4320},
    {"SUB-SKINCARE", "スキンケア定期便（毎月）", "subscription", Category::Subscription, 7920},
    {"SUB-COLLAGEN", "コラーゲン定期便（毎月）", "subscription", Category::Subscription, 4860},
    {"SUB-LIGHT", "ライトプラン定期便（毎月）", "subscription", Category::Subscription, 3480},
    {"BUNDLE-FULL", "フルラインセット", "bundle", Category::Bundle, 19800},
    {"GIFT-BOX", "ギフトボックス", "gift", Category::Gift, 550},
}};

// Indexes into kProducts of one category.
inline const std::vector<int>& by_category(Category c) {
  static const auto table = [] {
    std::array<std::vector<int>, 7> t;
    for (size_t i = 0; i < kProducts.size(); ++i) t[static_cast<size_t>(kProducts[i].kind)].push_back(static_cast<int>(i));
    return t;
  }();
  return table[static_cast<size_t>(c)];
}

struct Name {
  const char* kanji;
  const char* romaji;
};

inline constexpr std::array<Name, 30> kFamilyNames = {{
    {"佐藤", "sato"},     {"鈴木", "suzuki"},    {"高橋", "takahashi"}, {"田中", "tanaka"},
    {"伊藤", "ito"},      {"渡辺", "watanabe"},  {"山本", "yamamoto"},  {"中村", "nakamura"},
    {"小林", "kobayashi"}, {"加藤", "kato"},     {"吉田", "yoshida"},   {"山田", "yamada"},
    {"佐々木", "sasaki"}, {"山口", "yamaguchi"}, {"松本", "matsumoto"}, {"井上", "inoue"},
    {"木村", "kimura"},   {"林", "hayashi"},     {"斎藤", "saito"},     {"清水", "shimizu"},
    {"山崎", "yamazaki"}, {"森", "mori"},        {"池田", "ikeda"},     {"橋本", "hashimoto"},
    {"阿部", "abe"},      {"石川", "ishikawa"},  {"山下", "yamashita"}, {"中島", "nakajima"},
    {"小川", "ogawa"},    {"前田", "maeda"},
}};

inline constexpr std::array<Name, 30> kGivenNames = {{
    {"陽菜", "hina"},     {"結衣", "yui"},       {"さくら", "sakura"},  {"美咲", "misaki"},
    {"葵", "aoi"},        {"花子", "hanako"},    {"愛", "ai"},          {"彩", "aya"},
    {"真由美", "mayumi"}, {"恵子", "keiko"},     {"由美子", "yumiko"},  {"明美", "akemi"},
    {"優子", "yuko"},     {"麻衣", "mai"},       {"七海", "nanami"},    {"千尋", "chihiro"},
    {"直子", "naoko"},    {"裕子", "hiroko"},    {"智子", "tomoko"},    {"久美子", "kumiko"},
    {"翔太", "shota"},    {"大輔", "daisuke"},   {"健太", "kenta"},     {"拓也", "takuya"},
    {"誠", "makoto"},     {"浩二", "koji"},      {"蓮", "ren"},         {"湊", "minato"},
    {"悠真", "yuma"},     {"一郎", "ichiro"},
}};

// The top three reasons first (SPEC §1): no effect felt, product piling up, too expensive.
inline constexpr std::array<const char*, 7> kCancelReasons = {
    "no_effect", "too_much_stock", "too_expensive", "switched_brand", "skin_trouble", "moving", "other"};
inline constexpr std::array<int, 7> kCancelWeights = {30, 27, 20, 8, 7, 3, 5};
inline constexpr std::array<const char*, 3> kPauseReasons = {"too_much_stock", "too_expensive", "other"};
inline constexpr std::array<int, 3> kPauseWeights = {60, 20, 20};

}  // namespace crm::examples
