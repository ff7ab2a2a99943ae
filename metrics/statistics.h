// Statistics for comparing runs over several seeds: mean, sample standard deviation, Student's t quantiles and the
// paired confidence interval of a mean difference.
#ifndef METRICS_STATISTICS_H_
#define METRICS_STATISTICS_H_

#include "absl/types/span.h"

namespace metrics {

// The arithmetic mean; NaN for no values.
double Mean(absl::Span<const double> values);

// The sample standard deviation sqrt(sum (x - mean)^2 / (n - 1)); NaN for fewer than two values.
double SampleStandardDeviation(absl::Span<const double> values);

// The p-quantile of Student's t distribution with `degrees_of_freedom` >= 1, for p in (0, 1): the t with
// P(T <= t) = p. Computed from the CDF, 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0 (the regularized incomplete
// beta function I, by its continued fraction), inverted by bisection; accurate to about 1e-10.
double StudentTQuantile(double p, int degrees_of_freedom);

// The mean of paired differences d_i = a_i - b_i and its two-sided 95 % confidence interval,
// mean +- t(0.975, n - 1) * sd / sqrt(n) (the paired t interval). `defined` is false below two pairs, where no
// interval exists (half_width is NaN then).
struct PairedDifference {
  int pairs = 0;
  double mean = 0.0;
  double standard_deviation = 0.0;  // of the differences; NaN below two pairs
  double half_width = 0.0;
  bool defined = false;

  double low() const { return mean - half_width; }
  double high() const { return mean + half_width; }
  // The interval lies entirely above or below 0: a difference larger than the seed-to-seed noise.
  bool ExcludesZero() const { return defined && (low() > 0.0 || high() < 0.0); }
};

// Pairs a[i] with b[i]; the two spans must be equally long (CHECKed).
PairedDifference PairedDifference95(absl::Span<const double> a, absl::Span<const double> b);

}  // namespace metrics

#endif  // METRICS_STATISTICS_H_
