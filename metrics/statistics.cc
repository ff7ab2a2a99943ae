#include "metrics/statistics.h"

#include <cmath>
#include <limits>
#include <vector>

#include "glog/logging.h"

namespace metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The continued fraction of the regularized incomplete beta function I_x(a, b), evaluated with the modified Lentz
// method; converges quickly for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double fraction = d;
  for (int m = 1; m <= 1000; ++m) {
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double numerator = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    d = 1.0 + numerator * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + numerator / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    fraction *= d * c;
    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    numerator = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    d = 1.0 + numerator * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + numerator / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double step = d * c;
    fraction *= step;
    if (std::fabs(step - 1.0) < kEpsilon) break;
  }
  return fraction;
}

// I_x(a, b) for x in [0, 1], using the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly.
double RegularizedIncompleteBeta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1.0 - front * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

// P(T <= t) for Student's t with `df` degrees of freedom.
double StudentTCdf(double t, double df) {
  const double tail = 0.5 * RegularizedIncompleteBeta(df / 2.0, 0.5, df / (df + t * t));  // P(T > |t|)
  return t >= 0.0 ? 1.0 - tail : tail;
}

}  // namespace

double Mean(absl::Span<const double> values) {
  if (values.empty()) return kNaN;
  double sum = 0.0;
  for (double value : values) sum += value;
  return sum / static_cast<double>(values.size());
}

double SampleStandardDeviation(absl::Span<const double> values) {
  if (values.size() < 2) return kNaN;
  const double mean = Mean(values);
  double squares = 0.0;
  for (double value : values) squares += (value - mean) * (value - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

double StudentTQuantile(double p, int degrees_of_freedom) {
  CHECK_GE(degrees_of_freedom, 1);
  CHECK(p > 0.0 && p < 1.0) << "p = " << p;
  if (p < 0.5) return -StudentTQuantile(1.0 - p, degrees_of_freedom);
  if (p == 0.5) return 0.0;
  // The CDF rises monotonically: widen the bracket until it holds p, then bisect it to double precision.
  double low = 0.0, high = 1.0;
  while (StudentTCdf(high, degrees_of_freedom) < p) low = high, high *= 2.0;
  for (int i = 0; i < 200 && high - low > 1e-13 * high; ++i) {
    const double middle = 0.5 * (low + high);
    (StudentTCdf(middle, degrees_of_freedom) < p ? low : high) = middle;
  }
  return 0.5 * (low + high);
}

PairedDifference PairedDifference95(absl::Span<const double> a, absl::Span<const double> b) {
  CHECK_EQ(a.size(), b.size());
  std::vector<double> differences(a.size());
  for (size_t i = 0; i < a.size(); ++i) differences[i] = a[i] - b[i];
  PairedDifference result;
  result.pairs = static_cast<int>(differences.size());
  result.mean = Mean(differences);
  result.standard_deviation = SampleStandardDeviation(differences);
  result.defined = result.pairs >= 2;
  result.half_width = result.defined ? StudentTQuantile(0.975, result.pairs - 1) * result.standard_deviation /
                                           std::sqrt(static_cast<double>(result.pairs))
                                     : kNaN;
  return result;
}

}  // namespace metrics
