// The vector kernels of the evaluator: tight loops over one batch of rows that g++ -O3
// auto-vectorizes. Values come as arrays plus a validity array (1 = not null).
// Used only by program.cpp; each kernel writes `n` results.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

// Kernels are always inlined into Evaluator::exec, which is compiled once per target (AVX2 and
// baseline x86-64), so that each copy of the loops is vectorized for its target.
#if defined(__GNUC__)
#define CRM_KERNEL inline __attribute__((always_inline))
#else
#define CRM_KERNEL inline
#endif

namespace crm::engine::ops {

// ------------------------------------------------------------------ validity
// out = a & b, without a loop when one side is all-valid (`ones`) or both are the same array.
CRM_KERNEL const uint8_t* and_valid(const uint8_t* a, const uint8_t* b, uint8_t* out, size_t n, const uint8_t* ones) {
  if (a == ones || a == b) return b;
  if (b == ones) return a;
  for (size_t i = 0; i < n; ++i) out[i] = a[i] & b[i];
  return out;
}

// ------------------------------------------------------------------ three-valued logic
// Bool registers hold 0/1 in every slot (also null ones), so the formulas below need no branch.
CRM_KERNEL void and3(const uint8_t* a, const uint8_t* va, const uint8_t* b, const uint8_t* vb, uint8_t* o, uint8_t* ov,
                 size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t ta = a[i] & va[i], tb = b[i] & vb[i];
    uint8_t fa = (a[i] ^ 1) & va[i], fb = (b[i] ^ 1) & vb[i];
    o[i] = ta & tb;
    ov[i] = (ta & tb) | fa | fb;  // known when both true or either false
  }
}

CRM_KERNEL void or3(const uint8_t* a, const uint8_t* va, const uint8_t* b, const uint8_t* vb, uint8_t* o, uint8_t* ov,
                size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t ta = a[i] & va[i], tb = b[i] & vb[i];
    uint8_t fa = (a[i] ^ 1) & va[i], fb = (b[i] ^ 1) & vb[i];
    o[i] = ta | tb;
    ov[i] = ta | tb | (fa & fb);  // known when either true or both false
  }
}

CRM_KERNEL void and2(const uint8_t* a, const uint8_t* b, uint8_t* o, size_t n) {
  for (size_t i = 0; i < n; ++i) o[i] = a[i] & b[i];
}
CRM_KERNEL void or2(const uint8_t* a, const uint8_t* b, uint8_t* o, size_t n) {
  for (size_t i = 0; i < n; ++i) o[i] = a[i] | b[i];
}
CRM_KERNEL void not1(const uint8_t* a, uint8_t* o, size_t n) {
  for (size_t i = 0; i < n; ++i) o[i] = a[i] ^ 1;
}

// Truth per row: 0 false, 1 true, 2 unknown.
CRM_KERNEL void to_truth(const uint8_t* v, const uint8_t* valid, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = (v[i] & valid[i]) | static_cast<uint8_t>((valid[i] ^ 1) << 1);
}

// ------------------------------------------------------------------ comparisons
// o = a as int32; true when every value fits (then a comparison with an int32 constant on o
// answers as on a).
CRM_KERNEL bool narrow32(const int64_t* a, int32_t* o, size_t n) {
  uint8_t fits = 1;
  for (size_t i = 0; i < n; ++i) {
    o[i] = static_cast<int32_t>(a[i]);
    fits &= static_cast<uint8_t>(a[i] == static_cast<int64_t>(static_cast<int32_t>(a[i])));
  }
  return fits;
}

template <class T, class F>
CRM_KERNEL void compare(const T* a, const T* b, uint8_t* o, size_t n, F f) {
  for (size_t i = 0; i < n; ++i) o[i] = static_cast<uint8_t>(f(a[i], b[i]));
}

// Against a constant (the common `days_since == 7`): the constant stays in a register.
template <class T, class F>
CRM_KERNEL void compare_scalar(const T* a, T b, uint8_t* o, size_t n, F f) {
  for (size_t i = 0; i < n; ++i) o[i] = static_cast<uint8_t>(f(a[i], b));
}

// ------------------------------------------------------------------ arithmetic
// Integer ops: overflow -> null (ov[i] = 0).
CRM_KERNEL void add_i64(const int64_t* a, const int64_t* b, const uint8_t* va, const uint8_t* vb, int64_t* o, uint8_t* ov,
                    size_t n) {
  for (size_t i = 0; i < n; ++i) {
    int64_t r;
    bool overflow = __builtin_add_overflow(a[i], b[i], &r);
    o[i] = r;
    ov[i] = va[i] & vb[i] & static_cast<uint8_t>(!overflow);
  }
}
CRM_KERNEL void sub_i64(const int64_t* a, const int64_t* b, const uint8_t* va, const uint8_t* vb, int64_t* o, uint8_t* ov,
                    size_t n) {
  for (size_t i = 0; i < n; ++i) {
    int64_t r;
    bool overflow = __builtin_sub_overflow(a[i], b[i], &r);
    o[i] = r;
    ov[i] = va[i] & vb[i] & static_cast<uint8_t>(!overflow);
  }
}
CRM_KERNEL void mul_i64(const int64_t* a, const int64_t* b, const uint8_t* va, const uint8_t* vb, int64_t* o, uint8_t* ov,
                    size_t n) {
  for (size_t i = 0; i < n; ++i) {
    int64_t r;
    bool overflow = __builtin_mul_overflow(a[i], b[i], &r);
    o[i] = r;
    ov[i] = va[i] & vb[i] & static_cast<uint8_t>(!overflow);
  }
}
// Truncating modulo (SQL's and C's sign rule); by zero -> null; x % -1 == 0 (no INT64_MIN trap).
CRM_KERNEL void mod_i64(const int64_t* a, const int64_t* b, const uint8_t* va, const uint8_t* vb, int64_t* o, uint8_t* ov,
                    size_t n) {
  for (size_t i = 0; i < n; ++i) {
    int64_t d = b[i];
    bool bad = d == 0;
    o[i] = (bad || d == -1) ? 0 : a[i] % d;
    ov[i] = va[i] & vb[i] & static_cast<uint8_t>(!bad);
  }
}
// x % d for a constant d other than 0 and -1 (`days_since_signup % 365`): below 2^52 the
// quotient computed in double is exact after truncation, which avoids a 64-bit idiv per row.
// When the whole batch is in that range (the usual case) the loop has no branch and vectorizes.
CRM_KERNEL void mod_i64_const(const int64_t* a, int64_t d, int64_t* o, size_t n) {
  const double dd = static_cast<double>(d);
  constexpr int64_t kExact = int64_t{1} << 52;
  uint8_t exact = 1;
  for (size_t i = 0; i < n; ++i) exact &= static_cast<uint8_t>((a[i] > -kExact) & (a[i] < kExact));
  if (exact) {
    for (size_t i = 0; i < n; ++i) o[i] = a[i] - static_cast<int64_t>(static_cast<double>(a[i]) / dd) * d;
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    int64_t x = a[i];
    int64_t q = (x > -kExact && x < kExact) ? static_cast<int64_t>(static_cast<double>(x) / dd) : x / d;
    o[i] = x - q * d;
  }
}

// int / int is decimal.
CRM_KERNEL void div_i64(const int64_t* a, const int64_t* b, const uint8_t* va, const uint8_t* vb, double* o, uint8_t* ov,
                    size_t n) {
  for (size_t i = 0; i < n; ++i) {
    bool bad = b[i] == 0;
    o[i] = static_cast<double>(a[i]) / static_cast<double>(bad ? 1 : b[i]);
    ov[i] = va[i] & vb[i] & static_cast<uint8_t>(!bad);
  }
}

// Decimal ops: a result that is not finite (inf, nan) is null; so is division by zero.
CRM_KERNEL uint8_t finite(double r) { return static_cast<uint8_t>((r - r) == 0); }

template <class F>
CRM_KERNEL void arith_f64(const double* a, const double* b, const uint8_t* va, const uint8_t* vb, double* o, uint8_t* ov,
                      size_t n, F f) {
  for (size_t i = 0; i < n; ++i) {
    double r = f(a[i], b[i]);
    o[i] = r;
    ov[i] = va[i] & vb[i] & finite(r);
  }
}
// x / 0 is inf or nan, so the finiteness test also nulls division by zero (and the loop vectorizes).
CRM_KERNEL void div_f64(const double* a, const double* b, const uint8_t* va, const uint8_t* vb, double* o, uint8_t* ov,
                        size_t n) {
  for (size_t i = 0; i < n; ++i) {
    double r = a[i] / b[i];
    o[i] = r;
    ov[i] = va[i] & vb[i] & finite(r);
  }
}
CRM_KERNEL void mod_f64(const double* a, const double* b, const uint8_t* va, const uint8_t* vb, double* o, uint8_t* ov,
                    size_t n) {
  for (size_t i = 0; i < n; ++i) {
    bool bad = b[i] == 0;
    double r = bad ? 0.0 : std::fmod(a[i], b[i]);
    o[i] = r;
    ov[i] = va[i] & vb[i] & finite(r) & static_cast<uint8_t>(!bad);
  }
}

// ------------------------------------------------------------------ membership
// One row of and_member: the row's x is not FALSE, so its list is searched.
CRM_KERNEL void and_member_row(const uint8_t* x, const uint8_t* vx, const uint32_t* off, const int64_t* vals,
                               const uint8_t* lv, int64_t needle, uint8_t neg, uint8_t* o, uint8_t* ov, size_t i) {
  uint8_t f = 0;
  for (uint32_t j = off[i]; j < off[i + 1]; ++j) f |= static_cast<uint8_t>(vals[j] == needle);
  uint8_t b = f ^ neg, ta = x[i] & vx[i], tb = b & lv[i], fb = (b ^ 1) & lv[i];
  o[i] = ta & tb;
  ov[i] = (ta & tb) | fb;  // x is TRUE or unknown: FALSE only when the membership is
}

// o, ov = x and (needle in list, negated when `neg`), three-valued as and3 computes it, with
// the list searched only in the rows where x is not FALSE (the others are FALSE whatever the
// membership is). Row i's list is vals[off[i] .. off[i + 1]); lv is the lists' validity.
CRM_KERNEL void and_member(const uint8_t* x, const uint8_t* vx, const uint32_t* off, const int64_t* vals,
                           const uint8_t* lv, int64_t needle, bool neg, uint8_t* o, uint8_t* ov, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    o[i] = 0;
    ov[i] = (x[i] ^ 1) & vx[i];  // x FALSE: FALSE
  }
  const uint8_t ng = static_cast<uint8_t>(neg);
  // The rows still to do, 64 at a time as bits (eight bytes of 0/1 packed by one multiply),
  // visited by their lowest set bit: no branch per row that is already FALSE.
  constexpr uint64_t kLow = 0x0101010101010101ull, kPack = 0x0102040810204080ull;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t todo = 0;
    for (size_t k = 0; k < 64; k += 8) {
      uint64_t w;
      std::memcpy(&w, ov + i + k, 8);
      todo |= (((~w & kLow) * kPack) >> 56) << k;
    }
    if (i + 128 <= n) {  // the lists of the next 64 rows: the rows searched are too sparse for the hardware
      for (uint32_t j = off[i + 64]; j < off[i + 128]; j += 8) __builtin_prefetch(vals + j);
      if (i + 256 <= n)
        for (size_t k = i + 128; k < i + 256; k += 16) __builtin_prefetch(off + k);
    }
    while (todo) {
      and_member_row(x, vx, off, vals, lv, needle, ng, o, ov, i + static_cast<size_t>(__builtin_ctzll(todo)));
      todo &= todo - 1;
    }
  }
  for (; i < n; ++i)
    if (!ov[i]) and_member_row(x, vx, off, vals, lv, needle, ng, o, ov, i);
}

// o[i] = a[i] is one of c[0..k); the caller turns "not found" into unknown when the list holds null.
template <class T>
CRM_KERNEL void in_set(const T* a, const T* c, size_t k, uint8_t* o, size_t n) {
  for (size_t i = 0; i < n; ++i) o[i] = 0;
  for (size_t j = 0; j < k; ++j) {
    T v = c[j];
    for (size_t i = 0; i < n; ++i) o[i] |= static_cast<uint8_t>(a[i] == v);
  }
}

}  // namespace crm::engine::ops
